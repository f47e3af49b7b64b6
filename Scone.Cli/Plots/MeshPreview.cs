using System.Numerics;
using Scone.Engine.Geometry;
using Scone.Engine.Signals;

namespace Scone.Cli.Plots;

/// <summary>
/// A quick look at a mesh without a 3D viewer: a software rasteriser with a z-buffer and flat
/// Lambert shading.
/// </summary>
/// <remarks>
/// Model axes: y is up (as in the Stanford scans), x to the right, z toward the viewer. The view
/// is three-quarter: the model turns <see cref="YawDegrees"/> about y, so that its +x side swings
/// toward the viewer, then tilts <see cref="PitchDegrees"/> so that its top faces the viewer too;
/// the projection is orthographic. The sphere around the bounding box fills
/// <see cref="Fill"/> of the shorter side, so any rotation of the mesh would fit. The light is a
/// headlight (from the viewer) plus an ambient term, and acts on both sides of a face, so an open
/// surface or a mesh wound the wrong way still renders.
/// </remarks>
public static class MeshPreview
{
    public const float Background = 0.92f;
    public const float YawDegrees = 35;
    public const float PitchDegrees = 25;
    public const float Fill = 0.9f;
    public const int MaxSide = 16384;

    /// <summary>Brightness of a face seen edge-on; a face seen square-on gets 1.</summary>
    private const float Ambient = 0.25f;

    /// <summary>A pale blue, distinct from the grey background at any shade.</summary>
    private static readonly Vector3 Colour = new(0.55f, 0.68f, 0.85f);

    /// <summary>
    /// Pixel centres this far outside a triangle (in barycentric units) still count as inside,
    /// so that rounding leaves no cracks along shared edges.
    /// </summary>
    private const float EdgeSlack = 1e-5f;

    public static RgbImage Render(Mesh mesh, int width = 800, int height = 800)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxSide);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxSide);

        var depth = new float[width * height];
        var shade = new float[width * height];
        Array.Fill(depth, float.NegativeInfinity);
        if (mesh.TriangleCount > 0)
            Rasterise(depth, shade, Project(mesh.Vertices, width, height), mesh.Triangles, width, height);

        var pixels = new float[width * height * RgbImage.Channels];
        for (int p = 0; p < depth.Length; p++)
        {
            bool covered = depth[p] > float.NegativeInfinity;
            pixels[3 * p] = covered ? Colour.X * shade[p] : Background;
            pixels[3 * p + 1] = covered ? Colour.Y * shade[p] : Background;
            pixels[3 * p + 2] = covered ? Colour.Z * shade[p] : Background;
        }
        return new RgbImage(height, width, pixels);
    }

    /// <summary>
    /// Each vertex in screen space: x in pixels from the left, y in pixels from the top, z the
    /// depth (larger is nearer), all in the same pixel units.
    /// </summary>
    private static Vector3[] Project(Vector3[] vertices, int width, int height)
    {
        var min = new Vector3(float.PositiveInfinity);
        var max = new Vector3(float.NegativeInfinity);
        foreach (Vector3 v in vertices)
            if (float.IsFinite(v.X) && float.IsFinite(v.Y) && float.IsFinite(v.Z))
            {
                min = Vector3.Min(min, v);
                max = Vector3.Max(max, v);
            }
        Vector3 centre = (min + max) / 2;
        float radius = Vector3.Distance(min, max) / 2;
        if (!float.IsFinite(radius) || radius == 0) radius = 1; // no finite vertex, or a single point
        float scale = Fill * Math.Min(width, height) / (2 * radius);

        Matrix4x4 rotation = Matrix4x4.CreateRotationY(-YawDegrees * MathF.PI / 180)
                             * Matrix4x4.CreateRotationX(PitchDegrees * MathF.PI / 180);
        var screen = new Vector3[vertices.Length];
        for (int i = 0; i < vertices.Length; i++)
        {
            Vector3 view = Vector3.Transform(vertices[i] - centre, rotation) * scale;
            screen[i] = new Vector3(width / 2f + view.X, height / 2f - view.Y, view.Z);
        }
        return screen;
    }

    /// <summary>Fills the z-buffer <paramref name="depth"/> and the face brightness <paramref name="shade"/>, [height, width] each.</summary>
    private static void Rasterise(float[] depth, float[] shade, Vector3[] screen, int[] triangles, int width, int height)
    {
        for (int f = 0; f < triangles.Length; f += 3)
        {
            Vector3 a = screen[triangles[f]], b = screen[triangles[f + 1]], c = screen[triangles[f + 2]];
            float area = (b.X - a.X) * (c.Y - a.Y) - (c.X - a.X) * (b.Y - a.Y);
            // Zero for a face seen edge-on, not finite when a vertex is not.
            if (area == 0 || !float.IsFinite(area)) continue;

            float minX = MathF.Min(a.X, MathF.Min(b.X, c.X)), maxX = MathF.Max(a.X, MathF.Max(b.X, c.X));
            float minY = MathF.Min(a.Y, MathF.Min(b.Y, c.Y)), maxY = MathF.Max(a.Y, MathF.Max(b.Y, c.Y));
            // Pixel (x, y) has its centre at (x + 0.5, y + 0.5).
            int x0 = Math.Max(0, (int)MathF.Ceiling(minX - 0.5f)), x1 = Math.Min(width - 1, (int)MathF.Floor(maxX - 0.5f));
            int y0 = Math.Max(0, (int)MathF.Ceiling(minY - 0.5f)), y1 = Math.Min(height - 1, (int)MathF.Floor(maxY - 0.5f));
            if (x0 > x1 || y0 > y1) continue;

            // Screen y points down, which flips the handedness; only |n.z| matters for a headlight.
            Vector3 normal = Vector3.Cross(b - a, c - a);
            float brightness = Ambient + (1 - Ambient) * MathF.Abs(normal.Z) / normal.Length();

            // Barycentric weights of a and b are linear in the pixel centre (c's is the rest).
            float inverse = 1 / area;
            float waX = (b.Y - c.Y) * inverse, waY = (c.X - b.X) * inverse;
            float wbX = (c.Y - a.Y) * inverse, wbY = (a.X - c.X) * inverse;
            float startX = x0 + 0.5f - c.X;
            for (int y = y0; y <= y1; y++)
            {
                float dy = y + 0.5f - c.Y;
                float wa = waX * startX + waY * dy, wb = wbX * startX + wbY * dy;
                int row = y * width;
                for (int x = x0; x <= x1; x++, wa += waX, wb += wbX)
                {
                    float wc = 1 - wa - wb;
                    if (wa < -EdgeSlack || wb < -EdgeSlack || wc < -EdgeSlack) continue;
                    float z = wa * a.Z + wb * b.Z + wc * c.Z;
                    if (z <= depth[row + x]) continue;
                    depth[row + x] = z;
                    shade[row + x] = brightness;
                }
            }
        }
    }
}
