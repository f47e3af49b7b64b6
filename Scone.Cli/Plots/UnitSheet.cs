using Scone.Engine;
using Scone.Engine.Models;

namespace Scone.Cli.Plots;

/// <summary>
/// One layer's units as pictures of one size, tiled in unit order along the rows of a near-square
/// grid (8 x 8 for 64 units) with a 1-pixel white gap (and white cells after the last unit), and written as grey over the sheet's own
/// range: black is its smallest value, white its largest, linear between.
/// </summary>
public sealed class UnitSheet
{
    /// <summary>The largest sheet side: a 16384 x 16384 sheet holds 1 GiB of float values while it fills.</summary>
    public const int MaxSide = 16384;

    private const int Gap = 1;
    private const byte GapGrey = 255;

    private readonly float[] _values;
    private readonly int _pictureHeight, _pictureWidth;

    /// <summary>A sheet for the first <paramref name="units"/> units, each a height x width picture.</summary>
    /// <exception cref="InputException">The sheet would be over <see cref="MaxSide"/> pixels a side.</exception>
    public UnitSheet(int units, int height, int width)
    {
        Check(units, height, width);
        (Units, _pictureHeight, _pictureWidth) = (units, height, width);
        (Columns, Rows) = Grid(units);
        var (sheetWidth, sheetHeight) = Size(units, height, width);
        (Width, Height) = ((int)sheetWidth, (int)sheetHeight);
        _values = new float[Width * Height];
        Array.Fill(_values, float.NaN);
    }

    public int Units { get; }
    public int Columns { get; }
    public int Rows { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>The smallest and the largest value written (the finite ones).</summary>
    public double Min { get; private set; } = double.PositiveInfinity;
    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>The columns and rows of the grid for this many units: ceil(sqrt(units)) columns, as many rows as they fill.</summary>
    public static (int Columns, int Rows) Grid(int units)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        int columns = (int)Math.Sqrt(units);
        if (columns * columns < units) columns++;
        return (columns, (units + columns - 1) / columns);
    }

    /// <summary>The width and height of a sheet of these units and pictures.</summary>
    public static (long Width, long Height) Size(int units, int height, int width)
    {
        var (columns, rows) = Grid(units);
        return (columns * ((long)width + Gap) - Gap, rows * ((long)height + Gap) - Gap);
    }

    /// <exception cref="InputException">A sheet of these units and pictures would be over <see cref="MaxSide"/> pixels a side.</exception>
    public static void Check(int units, int height, int width)
    {
        var (sheetWidth, sheetHeight) = Size(units, height, width);
        if (sheetWidth > MaxSide || sheetHeight > MaxSide)
            throw new InputException($"{units} units of {width}x{height} make a {sheetWidth}x{sheetHeight} picture, over {MaxSide} pixels a side; "
                + "show fewer with --units K, or smaller ones with --size WxH");
    }

    /// <summary>Pixels [first, first + picture.Rows) of the grid, row-major, from a tile's picture: its first <see cref="Units"/> units.</summary>
    public void Add(long first, LayerPicture picture)
    {
        if (picture.Units < Units)
            throw new ArgumentException($"a picture of {picture.Units} units for a sheet of {Units}", nameof(picture));
        for (int r = 0; r < picture.Rows; r++)
        {
            long pixel = first + r;
            int i = (int)(pixel / _pictureWidth), j = (int)(pixel % _pictureWidth);
            for (int unit = 0; unit < Units; unit++)
            {
                double value = picture.Values[r * picture.Units + unit];
                if (double.IsFinite(value))
                    (Min, Max) = (Math.Min(Min, value), Math.Max(Max, value));
                int row = unit / Columns * (_pictureHeight + Gap) + i, column = unit % Columns * (_pictureWidth + Gap) + j;
                _values[row * Width + column] = (float)value;
            }
        }
    }

    /// <summary>The grey of a value over the range: round(255 (v - min) / (max - min)); black for a range of one value and for a value not finite.</summary>
    public static byte Grey(double value, double min, double max) =>
        max > min && double.IsFinite(value) ? (byte)Math.Round(255 * Math.Clamp((value - min) / (max - min), 0, 1)) : (byte)0;

    /// <summary>The sheet as 8-bit grey, row-major; the gaps, and the cells after the last unit, white.</summary>
    public byte[] ToGrey()
    {
        var grey = new byte[_values.Length];
        for (int k = 0; k < grey.Length; k++)
        {
            int row = k / Width, column = k % Width;
            bool gap = row % (_pictureHeight + Gap) == _pictureHeight || column % (_pictureWidth + Gap) == _pictureWidth
                || row / (_pictureHeight + Gap) * Columns + column / (_pictureWidth + Gap) >= Units;
            grey[k] = gap ? GapGrey : Grey(_values[k], Min, Max);
        }
        return grey;
    }
}
