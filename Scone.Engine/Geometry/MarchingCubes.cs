using System.Numerics;

namespace Scone.Engine.Geometry;

/// <summary>
/// Marching cubes (Lorensen and Cline) over a cubic grid of samples, for the spec §3 Chamfer
/// distance. The inside is where the field is at or above the level, so a signed distance (negative
/// inside) is passed negated. Triangles are counter-clockwise seen from outside (normals point
/// towards decreasing field), vertices are shared: one per grid edge the surface crosses, placed by
/// linear interpolation. The mesh is closed wherever the surface stays off the grid's boundary.
/// </summary>
public static class MarchingCubes
{
    // Per cube edge: its lower corner, its upper corner and its axis (0 x, 1 y, 2 z).
    private static readonly (int Lower, int Upper, int Axis)[] Edges =
    [
        (0, 1, 0), (1, 2, 1), (3, 2, 0), (0, 3, 1),
        (4, 5, 0), (5, 6, 1), (7, 6, 0), (4, 7, 1),
        (0, 4, 2), (1, 5, 2), (2, 6, 2), (3, 7, 2),
    ];

    // Per cube corner: its offset from the cube's first corner.
    private static readonly (int X, int Y, int Z)[] Corners =
        [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)];

    private static readonly Vector3[] Axes = [Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ];

    /// <summary>
    /// The surface where <paramref name="field"/> crosses <paramref name="level"/>, with vertices in
    /// grid units: sample (i, j, k) is at (x, y, z) = (i, j, k).
    /// </summary>
    /// <param name="field">[n, n, n] finite samples, <c>field[(i * n + j) * n + k]</c>.</param>
    public static Mesh Extract(ReadOnlySpan<float> field, int n, float level = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (field.Length != (long)n * n * n)
            throw new ArgumentException($"a {n}^3 grid needs {(long)n * n * n} samples, not {field.Length}", nameof(field));
        if (!float.IsFinite(level)) throw new ArgumentOutOfRangeException(nameof(level), level, "the level must be finite");
        for (int at = 0; at < field.Length; at++)
            if (!float.IsFinite(field[at]))
                throw new ArgumentException(
                    $"sample ({at / n / n}, {at / n % n}, {at % n}) is {field[at]}: marching cubes needs finite values", nameof(field));

        var vertices = new List<Vector3>();
        var triangles = new List<int>();
        int plane = n * n;
        // The vertex made on each crossed grid edge, or -1: along x between planes i and i + 1, and
        // along y and z in plane i (low) and plane i + 1 (high). Only two planes are ever held.
        var xEdges = new int[plane];
        int[] yLow = new int[plane], zLow = new int[plane], yHigh = new int[plane], zHigh = new int[plane];
        yLow.AsSpan().Fill(-1);
        zLow.AsSpan().Fill(-1);
        Span<float> corner = stackalloc float[8];
        Span<int> edgeVertex = stackalloc int[12];

        for (int i = 0; i + 1 < n; i++)
        {
            xEdges.AsSpan().Fill(-1);
            yHigh.AsSpan().Fill(-1);
            zHigh.AsSpan().Fill(-1);
            ReadOnlySpan<float> low = field.Slice(i * plane, plane), high = field.Slice((i + 1) * plane, plane);
            for (int j = 0; j + 1 < n; j++)
                for (int k = 0; k + 1 < n; k++)
                {
                    int at = j * n + k;
                    corner[0] = low[at];
                    corner[1] = high[at];
                    corner[2] = high[at + n];
                    corner[3] = low[at + n];
                    corner[4] = low[at + 1];
                    corner[5] = high[at + 1];
                    corner[6] = high[at + n + 1];
                    corner[7] = low[at + n + 1];
                    int cube = 0;
                    for (int c = 0; c < 8; c++)
                        if (corner[c] < level) cube |= 1 << c;
                    int crossed = MarchingCubesTables.EdgeMasks[cube];
                    if (crossed == 0) continue;

                    for (int e = 0; e < 12; e++)
                    {
                        if ((crossed & (1 << e)) == 0) continue;
                        var (lower, upper, axis) = Edges[e];
                        var (dx, dy, dz) = Corners[lower];
                        int[] slots = axis == 0 ? xEdges : axis == 1 ? (dx == 0 ? yLow : yHigh) : (dx == 0 ? zLow : zHigh);
                        ref int slot = ref slots[at + dy * n + dz];
                        if (slot < 0)
                        {
                            // The corners are on opposite sides of the level, so they differ.
                            float t = (level - corner[lower]) / (corner[upper] - corner[lower]);
                            slot = vertices.Count;
                            vertices.Add(new Vector3(i + dx, j + dy, k + dz) + t * Axes[axis]);
                        }
                        edgeVertex[e] = slot;
                    }
                    // The table's triangles face the corners below the level: outward here.
                    foreach (byte e in MarchingCubesTables.Triangles[cube])
                        triangles.Add(edgeVertex[e]);
                }
            (yLow, yHigh) = (yHigh, yLow);
            (zLow, zHigh) = (zHigh, zLow);
        }
        return new Mesh([.. vertices], [.. triangles]);
    }
}
