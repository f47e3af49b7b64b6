using System.Numerics;
using NUnit.Framework;
using Scone.Cli.Plots;
using Scone.Engine.Geometry;
using Scone.Engine.Signals;

namespace Scone.Tests.Plots;

public sealed class MeshPreviewTests
{
    private const int Size = 200;

    /// <summary>The box [min, max], 12 triangles wound counter-clockwise seen from outside.</summary>
    private static Mesh Box(Vector3 min, Vector3 max)
    {
        Vector3[] v = new Vector3[8];
        for (int i = 0; i < 8; i++)
            v[i] = new Vector3((i & 1) == 0 ? min.X : max.X, (i & 2) == 0 ? min.Y : max.Y, (i & 4) == 0 ? min.Z : max.Z);
        int[] quads =
        [
            0, 4, 6, 2, // -x
            1, 3, 7, 5, // +x
            0, 1, 5, 4, // -y
            2, 6, 7, 3, // +y
            0, 2, 3, 1, // -z
            4, 5, 7, 6, // +z
        ];
        var triangles = new List<int>();
        for (int q = 0; q < quads.Length; q += 4)
            triangles.AddRange([quads[q], quads[q + 1], quads[q + 2], quads[q], quads[q + 2], quads[q + 3]]);
        return new Mesh(v, triangles.ToArray());
    }

    private static Mesh Cube() => Box(new Vector3(-1), new Vector3(1));

    /// <summary>A UV sphere of radius 1 about the origin.</summary>
    private static Mesh Sphere(int rings, int segments)
    {
        var vertices = new List<Vector3>();
        for (int r = 0; r <= rings; r++)
            for (int s = 0; s < segments; s++)
            {
                double theta = Math.PI * r / rings, phi = 2 * Math.PI * s / segments;
                vertices.Add(new Vector3((float)(Math.Sin(theta) * Math.Cos(phi)), (float)Math.Cos(theta), (float)(Math.Sin(theta) * Math.Sin(phi))));
            }
        var triangles = new List<int>();
        for (int r = 0; r < rings; r++)
            for (int s = 0; s < segments; s++)
            {
                int a = r * segments + s, b = r * segments + (s + 1) % segments;
                triangles.AddRange([a, b + segments, b, a, a + segments, b + segments]);
            }
        return new Mesh(vertices.ToArray(), triangles.ToArray());
    }

    private static bool IsBackground(RgbImage image, int row, int column) =>
        image[row, column, 0] == MeshPreview.Background && image[row, column, 1] == MeshPreview.Background
        && image[row, column, 2] == MeshPreview.Background;

    /// <summary>The rows and columns that hold any mesh pixel, and how many pixels it covers.</summary>
    private static (int Top, int Bottom, int Left, int Right, int Count) Covered(RgbImage image)
    {
        int top = int.MaxValue, bottom = -1, left = int.MaxValue, right = -1, count = 0;
        for (int row = 0; row < image.Height; row++)
            for (int col = 0; col < image.Width; col++)
                if (!IsBackground(image, row, col))
                {
                    (top, bottom, left, right) = (Math.Min(top, row), Math.Max(bottom, row), Math.Min(left, col), Math.Max(right, col));
                    count++;
                }
        return (top, bottom, left, right, count);
    }

    private static HashSet<(float, float, float)> MeshColours(RgbImage image)
    {
        var colours = new HashSet<(float, float, float)>();
        for (int row = 0; row < image.Height; row++)
            for (int col = 0; col < image.Width; col++)
                if (!IsBackground(image, row, col))
                    colours.Add((image[row, col, 0], image[row, col, 1], image[row, col, 2]));
        return colours;
    }

    [Test]
    public void Render_Cube_FillsTheMiddleWithThreeShadedFacesOnBackground()
    {
        RgbImage image = MeshPreview.Render(Cube(), Size, Size);

        Assert.That((image.Height, image.Width), Is.EqualTo((Size, Size)));
        Assert.That(IsBackground(image, Size / 2, Size / 2), Is.False, "the middle is the cube");
        foreach ((int row, int col) in new[] { (0, 0), (0, Size - 1), (Size - 1, 0), (Size - 1, Size - 1) })
            Assert.That(IsBackground(image, row, col), Is.True, $"corner ({row}, {col})");
        // A three-quarter view shows three faces, each flat-shaded; hidden faces share a visible
        // face's shade (opposite normals), so no fourth colour appears even on the silhouette.
        Assert.That(MeshColours(image), Has.Count.EqualTo(3));
        var (top, bottom, left, right, _) = Covered(image);
        Assert.That((top + bottom) / 2.0, Is.EqualTo(Size / 2.0).Within(3), "centred vertically");
        Assert.That((left + right) / 2.0, Is.EqualTo(Size / 2.0).Within(3), "centred horizontally");
        Assert.That(top, Is.GreaterThan(0));
        Assert.That(bottom, Is.LessThan(Size - 1));
        Assert.That(right - left, Is.GreaterThan(Size / 2), "the cube fills much of the view");
    }

    [Test]
    public void Render_Sphere_IsADiskOfTheFittedRadius()
    {
        RgbImage image = MeshPreview.Render(Sphere(64, 128), Size, Size);

        // The sphere's bounding box [-1, 1]^3 has a half-diagonal of sqrt(3), which spans Fill of half the image.
        double radius = MeshPreview.Fill * Size / 2 / Math.Sqrt(3);
        var (_, _, _, _, count) = Covered(image);
        Assert.That(count, Is.EqualTo(Math.PI * radius * radius).Within(2).Percent);
        Assert.That(IsBackground(image, Size / 2, Size / 2 + (int)(radius - 2)), Is.False);
        Assert.That(IsBackground(image, Size / 2, Size / 2 + (int)(radius + 2)), Is.True);
    }

    [Test]
    public void Render_TallBox_StandsUpright_AndAFloorIsSeenFromAbove()
    {
        RgbImage tall = MeshPreview.Render(Box(new Vector3(-0.2f, -1, -0.2f), new Vector3(0.2f, 1, 0.2f)), Size, Size);
        var t = Covered(tall);
        Assert.That(t.Bottom - t.Top, Is.GreaterThan(2 * (t.Right - t.Left)), "y is up on screen");

        var floor = new Mesh([new(-1, 0, -1), new(1, 0, -1), new(1, 0, 1), new(-1, 0, 1)], [0, 2, 1, 0, 3, 2]);
        var f = Covered(MeshPreview.Render(floor, Size, Size));
        Assert.That(f.Count, Is.GreaterThan(0), "the view looks down, so a horizontal square is not edge-on");
        Assert.That(f.Bottom - f.Top, Is.LessThan(f.Right - f.Left));
    }

    [Test]
    public void Render_ReversedWinding_GivesTheSameImage()
    {
        Mesh cube = Cube();
        int[] reversed = (int[])cube.Triangles.Clone();
        for (int f = 0; f < reversed.Length; f += 3) (reversed[f + 1], reversed[f + 2]) = (reversed[f + 2], reversed[f + 1]);

        RgbImage inward = MeshPreview.Render(new Mesh(cube.Vertices, reversed), Size, Size);

        Assert.That(inward.Pixels, Is.EqualTo(MeshPreview.Render(cube, Size, Size).Pixels));
    }

    [Test]
    public void Render_IsDeterministic_AndHonoursTheSize()
    {
        Mesh sphere = Sphere(16, 32);

        RgbImage first = MeshPreview.Render(sphere, 120, 90), second = MeshPreview.Render(sphere, 120, 90);

        Assert.That((first.Height, first.Width), Is.EqualTo((90, 120)));
        Assert.That(first.Pixels, Is.EqualTo(second.Pixels));
    }

    [Test]
    public void Render_EmptyOrDegenerateMesh_GivesThePlainBackground()
    {
        Mesh[] meshes =
        [
            new([], []),
            new([new(1, 2, 3), new(4, 5, 6)], []),
            new([new(1, 1, 1), new(1, 1, 1), new(1, 1, 1)], [0, 1, 2]),
        ];
        foreach (Mesh mesh in meshes)
        {
            RgbImage image = MeshPreview.Render(mesh, 40, 30);
            Assert.That((image.Height, image.Width), Is.EqualTo((30, 40)));
            Assert.That(image.Pixels, Is.All.EqualTo(MeshPreview.Background));
        }
    }

    [Test]
    public void Render_SkipsFacesWithNonFiniteVertices()
    {
        Mesh cube = Cube();
        Vector3[] vertices = [.. cube.Vertices, new(float.NaN, 0, 0), new(float.PositiveInfinity, 0, 0)];
        int[] triangles = [.. cube.Triangles, 0, 1, 8, 2, 9, 3];

        RgbImage image = MeshPreview.Render(new Mesh(vertices, triangles), Size, Size);

        Assert.That(image.Pixels, Is.EqualTo(MeshPreview.Render(cube, Size, Size).Pixels));
    }

    [Test]
    public void Render_RejectsSizesOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MeshPreview.Render(Cube(), 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => MeshPreview.Render(Cube(), 10, MeshPreview.MaxSide + 1));
    }
}
