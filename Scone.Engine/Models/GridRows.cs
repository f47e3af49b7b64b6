using System.Numerics;

namespace Scone.Engine.Models;

/// <summary>
/// Rows of 2-d coordinates that are a whole Height x Width grid in row-major order, as an image's
/// pixels are (spec §3): row r = i Width + k holds (Y_i, X_k), with Y_i the first coordinate of row
/// i Width and X_k the second of row k. On such rows a collage layer's Fourier basis separates into
/// a term per grid row and one per grid column (<see cref="Backends.IBackend{T}.BasisTables"/>).
/// </summary>
public sealed record GridRows
{
    public GridRows(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if ((long)height * width > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(width), $"a {height} x {width} grid has more rows than an int counts");
        (Height, Width) = (height, width);
    }

    public int Height { get; }
    public int Width { get; }
    public int Rows => Height * Width;

    /// <summary>The coordinates of a grid row or column (the lines of the basis tables): Height + Width.</summary>
    public int Lines => Height + Width;

    /// <summary>Whether x[rows, 2] is exactly this grid: every row's coordinates equal to its grid row's and column's.</summary>
    public bool Describes<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length != 2L * Rows) return false;
        for (int r = 0; r < Rows; r++)
            if (!x[2 * r].Equals(x[2 * (r - r % Width)]) || !x[2 * r + 1].Equals(x[2 * (r % Width) + 1]))
                return false;
        return true;
    }
}
