using System.Numerics;
using System.Runtime.CompilerServices;
using Scone.Engine.Geometry;

namespace Scone.Engine.Io;

/// <summary>Reads oriented point clouds written as text, one <c>x y z nx ny nz</c> point a line.</summary>
public static class XyzFile
{
    /// <summary>
    /// Loads the points and their normals as written (not normalised: <see cref="ShapeFile.Load"/>
    /// does that). Fields are separated by spaces or tabs; blank lines and lines starting with '#'
    /// are skipped. An empty file gives an empty cloud.
    /// </summary>
    /// <exception cref="InputException">
    /// The file is missing or unreadable, or a line does not have exactly six numbers, or one of
    /// them is NaN or infinite.
    /// </exception>
    // Optimised at once: a file is read once per process (see ObjFile.Load).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static OrientedPointCloud Load(string path)
    {
        ReadOnlySpan<byte> text = ShapeInput.ReadAll(path);
        // At most one point a line; counting lines is fast and saves growing the arrays.
        int capacity = text.Count((byte)'\n') + 1;
        var points = new Vector3[capacity];
        var normals = new Vector3[capacity];
        int count = 0;
        Span<float> values = stackalloc float[6];
        var lines = new AsciiLines(text);
        while (lines.TryNext(out ReadOnlySpan<byte> line))
        {
            var fields = new AsciiFields(line);
            if (!fields.TryNext(out ReadOnlySpan<byte> first) || first[0] == (byte)'#') continue;
            fields = new AsciiFields(line);
            for (int k = 0; k < 6; k++)
            {
                if (!fields.TryNext(out ReadOnlySpan<byte> field))
                    throw WrongFieldCount(path, lines.Number, k);
                if (!AsciiText.TryParseFloat(field, out values[k]))
                    throw ShapeInput.Fail(path, lines.Number, $"{AsciiText.Quote(field)} is not a number");
                if (!float.IsFinite(values[k]))
                    throw ShapeInput.Fail(path, lines.Number, $"{AsciiText.Quote(field)} is not a finite number");
            }
            int extra = fields.CountRest();
            if (extra > 0) throw WrongFieldCount(path, lines.Number, 6 + extra);
            points[count] = new Vector3(values[0], values[1], values[2]);
            normals[count] = new Vector3(values[3], values[4], values[5]);
            count++;
        }
        return new OrientedPointCloud(points[..count], normals[..count]);
    }

    private static InputException WrongFieldCount(string path, int line, int found) =>
        ShapeInput.Fail(path, line, $"expected 6 numbers (x y z nx ny nz), found {found}");
}
