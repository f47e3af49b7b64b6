using System.Numerics;
using System.Runtime.CompilerServices;
using Scone.Engine.Backends.Cpu;

namespace Scone.Engine.Geometry;

/// <summary>
/// A 3D k-d tree for k-nearest-neighbour queries: the spec §3 sdf labels and the Chamfer distance.
/// Built once by median splits on the axis of widest spread. Every split halves its point range, so
/// a node's range follows from its place in the tree and the tree needs no child or range arrays:
/// nodes are stored in heap order (children of node i are 2i + 1 and 2i + 2), inner nodes with an
/// axis and a split value, every node with the tight bounding box of its points, over the points
/// (with their original indices) reordered in place. The search prunes by those boxes: a surface
/// cloud's split cells reach far into empty space, so for a query away from the surface (half the
/// SDF samples) cells alone would let the search visit thousands of leaves. Immutable after
/// construction, so any number of threads may query it at once. Results are deterministic: among
/// points at equal distance, the one the search meets first is kept.
/// </summary>
public sealed class KdTree
{
    // Ranges of at most this many points are leaves, scanned linearly.
    private const int LeafSize = 12;

    // Subtrees of more points are built on the thread pool; the tree does not depend on it.
    private const int ParallelBuildSize = 1 << 15;

    // The box bound is a sum of rounded squares that can overshoot a point's computed distance by a
    // few ulps; shrinking it keeps such a point from being pruned.
    private const float BoundSlack = 1 - 1e-5f;

    private readonly Vector3[] _original;
    private readonly Entry[] _entries;  // in tree order
    private readonly byte[] _axis;      // [inner nodes]
    private readonly float[] _split;    // [inner nodes]
    private readonly Vector3[] _boxMin, _boxMax; // [nodes]: the tight box of each node's points

    /// <param name="points">Any number of points, all coordinates finite; copied.</param>
    public KdTree(ReadOnlySpan<Vector3> points)
    {
        for (int i = 0; i < points.Length; i++)
            if (!float.IsFinite(points[i].X) || !float.IsFinite(points[i].Y) || !float.IsFinite(points[i].Z))
                throw new ArgumentException($"point {i} is {points[i]}: k-d tree coordinates must be finite", nameof(points));
        _original = points.ToArray();
        _entries = new Entry[points.Length];
        for (int i = 0; i < _entries.Length; i++) _entries[i] = new Entry(points[i], i);

        int depth = 0;
        for (int count = points.Length; count > LeafSize; count -= count / 2) depth++;
        int innerNodes = (1 << depth) - 1;
        _axis = new byte[innerNodes];
        _split = new float[innerNodes];
        _boxMin = new Vector3[2 * innerNodes + 1];
        _boxMax = new Vector3[2 * innerNodes + 1];
        Build(0, 0, points.Length);
    }

    public int Count => _entries.Length;

    /// <summary>The point given at <paramref name="index"/> to the constructor.</summary>
    public Vector3 Point(int index) => _original[index];

    /// <summary>
    /// The k = <paramref name="indices"/>.Length points nearest to <paramref name="query"/> (finite),
    /// as indices into the constructor's points and squared distances, nearest first. Returns how
    /// many were found, min(k, Count); slots past that get index -1 and distance +infinity.
    /// </summary>
    public int Nearest(Vector3 query, Span<int> indices, Span<float> distancesSquared)
    {
        if (distancesSquared.Length != indices.Length)
            throw new ArgumentException($"{indices.Length} indices and {distancesSquared.Length} distances", nameof(distancesSquared));
        int found = Math.Min(indices.Length, Count);
        indices[found..].Fill(-1);
        distancesSquared[found..].Fill(float.PositiveInfinity);
        if (found == 0) return 0;

        var best = new Best(indices[..found], distancesSquared[..found]);
        Search(0, 0, Count, query, ref best);
        return found;
    }

    /// <summary>
    /// <see cref="Nearest"/> for every query on all cores: <paramref name="indices"/> and
    /// <paramref name="distancesSquared"/> are [queries, k]. Each query's answer is the same as
    /// Nearest's, whatever the number of threads.
    /// </summary>
    public unsafe void NearestBatch(ReadOnlySpan<Vector3> queries, int k, Span<int> indices, Span<float> distancesSquared)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        long outputs = (long)queries.Length * k;
        if (indices.Length != outputs || distancesSquared.Length != outputs)
            throw new ArgumentException(
                $"{queries.Length} queries x k = {k} need {outputs} outputs, not {indices.Length} indices and {distancesSquared.Length} distances");
        if (outputs == 0) return;

        fixed (Vector3* pinnedQueries = queries)
        fixed (int* pinnedIndices = indices)
        fixed (float* pinnedDistances = distancesSquared)
        {
            Vector3* q = pinnedQueries;
            int* ix = pinnedIndices;
            float* d2 = pinnedDistances;
            CpuParallel.ForChunks(queries.Length, (_, start, count) =>
            {
                for (int i = start; i < start + count; i++)
                    Nearest(q[i], new Span<int>(ix + (long)i * k, k), new Span<float>(d2 + (long)i * k, k));
            });
        }
    }

    private void Build(int node, int lo, int hi)
    {
        int count = hi - lo;
        if (count == 0) return;
        Vector3 min = _entries[lo].Position, max = min;
        for (int i = lo + 1; i < hi; i++)
        {
            min = Vector3.Min(min, _entries[i].Position);
            max = Vector3.Max(max, _entries[i].Position);
        }
        _boxMin[node] = min;
        _boxMax[node] = max;
        if (count <= LeafSize) return;

        Vector3 extent = max - min;
        int axis = extent.X >= extent.Y && extent.X >= extent.Z ? 0 : extent.Y >= extent.Z ? 1 : 2;

        int mid = lo + count / 2;
        Select(lo, hi, mid, axis);
        _axis[node] = (byte)axis;
        _split[node] = Coordinate(_entries[mid].Position, axis);

        if (count > ParallelBuildSize)
            Parallel.Invoke(() => Build(2 * node + 1, lo, mid), () => Build(2 * node + 2, mid, hi));
        else
        {
            Build(2 * node + 1, lo, mid);
            Build(2 * node + 2, mid, hi);
        }
    }

    /// <summary>
    /// Reorders [lo, hi) so that position mid holds the point that sorting by the axis coordinate
    /// would put there, with none greater before it and none smaller after it (Hoare's FIND, whose
    /// partition also keeps runs of equal coordinates cheap).
    /// </summary>
    private void Select(int lo, int hi, int mid, int axis)
    {
        int last = hi - 1;
        while (lo < last)
        {
            float pivot = MedianOfThree(
                Coordinate(_entries[lo].Position, axis), Coordinate(_entries[lo + (last - lo) / 2].Position, axis),
                Coordinate(_entries[last].Position, axis));
            int i = lo, j = last;
            while (i <= j)
            {
                while (Coordinate(_entries[i].Position, axis) < pivot) i++;
                while (Coordinate(_entries[j].Position, axis) > pivot) j--;
                if (i <= j)
                {
                    (_entries[i], _entries[j]) = (_entries[j], _entries[i]);
                    i++;
                    j--;
                }
            }
            // Now [lo, j] <= pivot <= [i, last], and everything strictly between equals the pivot.
            if (mid <= j) last = j;
            else if (mid >= i) lo = i;
            else return;
        }
    }

    private static float MedianOfThree(float a, float b, float c) =>
        a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);

    private static float Coordinate(Vector3 v, int axis) => Unsafe.Add(ref v.X, axis);

    /// <summary>Searches node's subtree, the child with the nearer box first, skipping every subtree whose box is no nearer than the k-th best so far.</summary>
    private void Search(int node, int lo, int hi, Vector3 query, ref Best best)
    {
        if (hi - lo <= LeafSize)
        {
            for (int i = lo; i < hi; i++)
            {
                float d = Vector3.DistanceSquared(query, _entries[i].Position);
                if (best.Accepts(d)) best.Insert(d, _entries[i].Index);
            }
            return;
        }
        int mid = lo + (hi - lo) / 2;
        int left = 2 * node + 1, right = 2 * node + 2;
        float leftDistance = BoxDistance(left, query), rightDistance = BoxDistance(right, query);
        // The nearer box first: its points tighten the bound soonest. Ties go left, for determinism.
        if (leftDistance <= rightDistance)
        {
            if (best.Accepts(leftDistance * BoundSlack)) Search(left, lo, mid, query, ref best);
            if (best.Accepts(rightDistance * BoundSlack)) Search(right, mid, hi, query, ref best);
        }
        else
        {
            if (best.Accepts(rightDistance * BoundSlack)) Search(right, mid, hi, query, ref best);
            if (best.Accepts(leftDistance * BoundSlack)) Search(left, lo, mid, query, ref best);
        }
    }

    /// <summary>The squared distance from the query to a node's box (0 inside it).</summary>
    private float BoxDistance(int node, Vector3 query)
    {
        var outside = Vector3.Max(Vector3.Max(_boxMin[node] - query, query - _boxMax[node]), Vector3.Zero);
        return Vector3.Dot(outside, outside);
    }

    /// <summary>A point with its index in the constructor's order: 16 bytes, one load in a leaf scan.</summary>
    private readonly record struct Entry(Vector3 Position, int Index);

    /// <summary>The nearest points so far, sorted by distance, in the caller's output spans.</summary>
    private ref struct Best(Span<int> indices, Span<float> distances)
    {
        private readonly Span<int> _indices = indices;
        private readonly Span<float> _distances = distances;
        private int _count;
        private float _worst = float.PositiveInfinity; // the k-th distance once k are held

        /// <summary>Whether a point at squared distance d would be kept (always, until k are held).</summary>
        public readonly bool Accepts(float d) => d < _worst || _count < _distances.Length;

        public void Insert(float d, int index)
        {
            int slot = _count < _distances.Length ? _count++ : _distances.Length - 1;
            for (; slot > 0 && _distances[slot - 1] > d; slot--)
            {
                _distances[slot] = _distances[slot - 1];
                _indices[slot] = _indices[slot - 1];
            }
            _distances[slot] = d;
            _indices[slot] = index;
            if (_count == _distances.Length) _worst = _distances[^1];
        }
    }
}
