using System.Buffers;
using System.Numerics;

namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// The CPU backend: <see cref="CpuOps"/> on blocks of rows spread over all cores, and
/// <see cref="CpuGemm"/>. Reductions over samples sum per-chunk partials in chunk order, so results
/// do not depend on thread timing. Work is synchronous. With bfloat16 activations every primitive
/// computes as with full ones and then rounds what it wrote into an activation buffer
/// (<see cref="Stored"/>): the numbers a GPU that stores bfloat16 gets, without its saving.
/// </summary>
public sealed class CpuBackend<T>(ActivationStorage activations = ActivationStorage.Full) : IBackend<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>LinearMseLoss's y and dy, grown to the largest batch it has seen.</summary>
    private CpuBuffer<T>? _lossScratch;

    public string Name => "cpu";

    public ActivationStorage Activations => activations;

    public DeviceBuffer<TElement> Allocate<TElement>(int length) where TElement : unmanaged => new CpuBuffer<TElement>(length);

    public DeviceBuffer<T> AllocateActivations(int length) => new CpuBuffer<T>(length, activations);

    public void Upload<TElement>(Slice<TElement> destination, ReadOnlySpan<TElement> source) where TElement : unmanaged
    {
        var span = destination.Require(source.Length, nameof(destination)).Span();
        source.CopyTo(span);
        if (destination.Storage == ActivationStorage.BFloat16)
            BFloat16.RoundInPlace(System.Runtime.InteropServices.MemoryMarshal.Cast<TElement, T>(span[..source.Length]));
    }

    public void Download<TElement>(Span<TElement> destination, Slice<TElement> source) where TElement : unmanaged =>
        source.Span()[..destination.Length].CopyTo(destination);

    public void Copy(Slice<T> destination, Slice<T> source)
    {
        if (destination.Storage != source.Storage)
            throw new ArgumentException($"a copy from a {source.Storage} buffer into a {destination.Storage} one", nameof(destination));
        source.Span().CopyTo(destination.Require(source.Length, nameof(destination)).Span());
    }

    public void Fill(Slice<T> destination, T value)
    {
        destination.Span().Fill(value);
        Stored(destination);
    }

    /// <summary>A full operand that meets a bfloat16 one is rounded first (as the GPU hands cuBLAS a bfloat16 copy); the result is rounded where c is stored so.</summary>
    public void Gemm(bool transA, bool transB, int m, int n, int k, T alpha, Slice<T> a, int lda, Slice<T> b, int ldb, T beta, Slice<T> c, int ldc)
    {
        bool narrowA = a.Storage == ActivationStorage.BFloat16, narrowB = b.Storage == ActivationStorage.BFloat16;
        T[]? rounded = narrowA == narrowB ? null : ArrayPool<T>.Shared.Rent(narrowA ? b.Length : a.Length);
        var aSpan = a.Span();
        var bSpan = b.Span();
        if (rounded is not null)
        {
            var copy = rounded.AsSpan(0, narrowA ? b.Length : a.Length);
            (narrowA ? bSpan : aSpan).CopyTo(copy);
            BFloat16.RoundInPlace(copy);
            if (narrowA) bSpan = copy;
            else aSpan = copy;
        }
        CpuGemm.Gemm(transA, transB, m, n, k, alpha, aSpan, lda, bSpan, ldb, beta, c.Span(), ldc);
        if (rounded is not null) ArrayPool<T>.Shared.Return(rounded);
        Stored(c);
    }

    /// <summary>Rounds a slice the backend just wrote to bfloat16 where it is stored so (rounding is idempotent: values already stored stay).</summary>
    private static void Stored(Slice<T>? written)
    {
        if (written is { Storage: ActivationStorage.BFloat16 } slice)
            CpuParallel.ForRange(slice.Length, (start, count) => BFloat16.RoundInPlace(slice.Span().Slice(start, count)));
    }

    public void AddBias(Slice<T> y, Slice<T> bias, int rows, int cols)
    {
        y.Require((long)rows * cols, nameof(y));
        bias.Require(cols, nameof(bias));
        CpuParallel.ForChunks(rows, (_, start, count) =>
            CpuOps.AddBias(y.Span().Slice(start * cols, count * cols), bias.Span(), count, cols));
        Stored(y);
    }

    public void ColumnSum(Slice<T> sum, Slice<T> x, int rows, int cols)
    {
        sum.Require(cols, nameof(sum));
        x.Require((long)rows * cols, nameof(x));
        ReduceByChunks(rows, cols, sum.Span(),
            (partial, start, count) => CpuOps.ColumnSum(partial, x.Span().Slice(start * cols, count * cols), count, cols));
    }

    public void CollageForward(Slice<T> z, Slice<T> u, Slice<T> x, Slice<T> a, Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, z, u, x, a, basisWeight, basisBias);
        w0 = Scaled(w0, scale);
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.CollageForward(
            z.Span().Slice(start * width, count * width), u.Span().Slice(start * width, count * width),
            x.Span().Slice(start * dims, count * dims), a.Span()[..width], basisWeight.Span()[..(width * dims)],
            basisBias.Span()[..width], count, width, dims, w0, omega, mask));
        Stored(z);
    }

    public void CollageLinearForward(Slice<T> z, Slice<T> u, Slice<T> input, Slice<T> x, Slice<T> maskWeight, Slice<T> a,
        Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale, int rows, int inWidth, int width, int dims, T w0, T omega, MaskActivation mask)
    {
        Gemm(false, true, rows, width, inWidth, T.One, input, inWidth, maskWeight, inWidth, T.Zero, u, width);
        CollageForward(z, u, x, a, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask);
    }

    public void CollageBackward(Slice<T> du, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias,
        Slice<T> dz, Slice<T> u, Slice<T> a, Slice<T> x, Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, du, u, x, a, basisWeight, basisBias);
        da.Require(width, nameof(da));
        w0 = Scaled(w0, scale);
        dz.Require((long)rows * width, nameof(dz));
        ReduceCollage(da, dBasisWeight, dBasisBias, rows, width, dims, (das, dBs, dcs, start, count) => CpuOps.CollageBackward(
            du.Span().Slice(start * width, count * width), das, dBs, dcs,
            dz.Span().Slice(start * width, count * width), u.Span().Slice(start * width, count * width), a.Span()[..width],
            x.Span().Slice(start * dims, count * dims), basisWeight.Span()[..(width * dims)], basisBias.Span()[..width],
            count, width, dims, w0, omega, mask));
        Stored(du);
    }

    public void CollageLinearBackward(Slice<T>? dInput, Slice<T> du, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias,
        Slice<T> dz, Slice<T> u, Slice<T> a, Slice<T> x, Slice<T> maskWeight, Slice<T> basisWeight, Slice<T> basisBias, Slice<T>? scale,
        int rows, int inWidth, int width, int dims, T w0, T omega, MaskActivation mask)
    {
        CollageBackward(du, da, dBasisWeight, dBasisBias, dz, u, a, x, basisWeight, basisBias, scale, rows, width, dims, w0, omega, mask);
        if (dInput is { } dPrevious)
            Gemm(false, false, rows, inWidth, width, T.One, du, width, maskWeight, inWidth, T.Zero, dPrevious, inWidth);
    }

    private delegate void CollageChunk(Span<T> da, Span<T> dBasisWeight, Span<T> dBasisBias, int start, int count);

    /// <summary>A collage backward's reductions by chunks: one partial per chunk holds [da | dc | dB], in that order, added into da, dc and dB.</summary>
    private static void ReduceCollage(Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias, int rows, int width, int dims, CollageChunk chunk)
    {
        dBasisWeight.Require(width * dims, nameof(dBasisWeight));
        dBasisBias.Require(width, nameof(dBasisBias));
        int partialLength = width * (2 + dims);
        T[] totals = ArrayPool<T>.Shared.Rent(partialLength);
        Array.Clear(totals, 0, partialLength);
        ReduceByChunks(rows, partialLength, totals.AsSpan(0, partialLength), (partial, start, count) =>
            chunk(partial[..width], partial.Slice(2 * width, width * dims), partial.Slice(width, width), start, count));
        AddInto(da.Span()[..width], totals.AsSpan(0, width));
        AddInto(dBasisBias.Span()[..width], totals.AsSpan(width, width));
        AddInto(dBasisWeight.Span()[..(width * dims)], totals.AsSpan(2 * width, width * dims));
        ArrayPool<T>.Shared.Return(totals);
    }

    public void CoordinateCollageForward(Slice<T> z, Slice<T> x, Slice<T> maskWeight, Slice<T> a, Slice<T> basisWeight, Slice<T> basisBias,
        int rows, int width, int dims, T w0, T omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, z, z, x, a, basisWeight, basisBias);
        maskWeight.Require(width * dims, nameof(maskWeight));
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.CoordinateCollageForward(
            z.Span().Slice(start * width, count * width), x.Span().Slice(start * dims, count * dims), maskWeight.Span()[..(width * dims)],
            a.Span()[..width], basisWeight.Span()[..(width * dims)], basisBias.Span()[..width], count, width, dims, w0, omega, mask));
        Stored(z);
    }

    public void CoordinateCollageBackward(Slice<T> dMaskWeight, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias, Slice<T> dz, Slice<T> x,
        Slice<T> maskWeight, Slice<T> a, Slice<T> basisWeight, Slice<T> basisBias, int rows, int width, int dims, T w0, T omega, MaskActivation mask)
    {
        CheckLayer(rows, width, dims, dz, dz, x, a, basisWeight, basisBias);
        maskWeight.Require(width * dims, nameof(maskWeight));
        dMaskWeight.Require(width * dims, nameof(dMaskWeight));
        da.Require(width, nameof(da));
        dBasisWeight.Require(width * dims, nameof(dBasisWeight));
        dBasisBias.Require(width, nameof(dBasisBias));
        // One partial per chunk holds [da | dc | dB | dA], in that order.
        int partialLength = width * (2 + 2 * dims);
        T[] totals = ArrayPool<T>.Shared.Rent(partialLength);
        Array.Clear(totals, 0, partialLength);
        ReduceByChunks(rows, partialLength, totals.AsSpan(0, partialLength), (partial, start, count) => CpuOps.CoordinateCollageBackward(
            partial.Slice((2 + dims) * width, width * dims), partial[..width], partial.Slice(2 * width, width * dims), partial.Slice(width, width),
            dz.Span().Slice(start * width, count * width), x.Span().Slice(start * dims, count * dims), maskWeight.Span()[..(width * dims)],
            a.Span()[..width], basisWeight.Span()[..(width * dims)], basisBias.Span()[..width], count, width, dims, w0, omega, mask));
        AddInto(da.Span()[..width], totals.AsSpan(0, width));
        AddInto(dBasisBias.Span()[..width], totals.AsSpan(width, width));
        AddInto(dBasisWeight.Span()[..(width * dims)], totals.AsSpan(2 * width, width * dims));
        AddInto(dMaskWeight.Span()[..(width * dims)], totals.AsSpan((2 + dims) * width, width * dims));
        ArrayPool<T>.Shared.Return(totals);
    }

    public void BasisTables(Slice<T> tables, Slice<T> x, Slice<T> basisWeight, Slice<T> basisBias, int gridHeight, int gridWidth, int width, T omega)
    {
        int rows = CheckGrid(gridHeight, gridWidth, width, tables);
        x.Require(2L * rows, nameof(x));
        basisWeight.Require(2L * width, nameof(basisWeight));
        basisBias.Require(width, nameof(basisBias));
        // The lines' coordinates: Y_i of grid row i (its first row's), X_k of column k (row k's).
        T[] coordinates = new T[gridHeight + gridWidth];
        var xs = x.Span();
        for (int i = 0; i < gridHeight; i++) coordinates[i] = xs[2 * i * gridWidth];
        for (int k = 0; k < gridWidth; k++) coordinates[gridHeight + k] = xs[2 * k + 1];
        int line = 2 * BasisTableLayout.Stride(width);
        CpuParallel.ForChunks(gridHeight, (_, start, count) => CpuOps.BasisTables(tables.Span().Slice(start * line, count * line),
            coordinates.AsSpan(start, count), basisWeight.Span()[..(2 * width)], basisBias.Span()[..width], 0, width, omega));
        CpuParallel.ForChunks(gridWidth, (_, start, count) => CpuOps.BasisTables(tables.Span().Slice((gridHeight + start) * line, count * line),
            coordinates.AsSpan(gridHeight + start, count), basisWeight.Span()[..(2 * width)], ReadOnlySpan<T>.Empty, 1, width, omega));
    }

    public void CollageForwardGrid(Slice<T> z, Slice<T> u, Slice<T> tables, Slice<T> a, Slice<T>? scale, int gridHeight, int gridWidth, int width, T w0,
        MaskActivation mask)
    {
        int rows = CheckGrid(gridHeight, gridWidth, width, tables);
        z.Require((long)rows * width, nameof(z));
        u.Require((long)rows * width, nameof(u));
        a.Require(width, nameof(a));
        w0 = Scaled(w0, scale);
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.CollageForwardGrid(
            z.Span().Slice(start * width, count * width), u.Span().Slice(start * width, count * width), tables.Span(), a.Span()[..width],
            start, count, gridHeight, gridWidth, width, w0, mask));
        Stored(z);
    }

    public void CollageBackwardGrid(Slice<T> du, Slice<T> da, Slice<T> dBasisWeight, Slice<T> dBasisBias, Slice<T> dz, Slice<T> u, Slice<T> a, Slice<T> x,
        Slice<T> tables, Slice<T>? scale, int gridHeight, int gridWidth, int width, T w0, T omega, MaskActivation mask)
    {
        int rows = CheckGrid(gridHeight, gridWidth, width, tables);
        du.Require((long)rows * width, nameof(du));
        dz.Require((long)rows * width, nameof(dz));
        u.Require((long)rows * width, nameof(u));
        x.Require(2L * rows, nameof(x));
        a.Require(width, nameof(a));
        da.Require(width, nameof(da));
        w0 = Scaled(w0, scale);
        ReduceCollage(da, dBasisWeight, dBasisBias, rows, width, 2, (das, dBs, dcs, start, count) => CpuOps.CollageBackwardGrid(
            du.Span().Slice(start * width, count * width), das, dBs, dcs,
            dz.Span().Slice(start * width, count * width), u.Span().Slice(start * width, count * width), a.Span()[..width], x.Span().Slice(2 * start, 2 * count),
            tables.Span(), start, count, gridHeight, gridWidth, width, w0, omega, mask));
        Stored(du);
    }

    /// <summary>The rows of an H x W grid, after checking that the tables hold its lines.</summary>
    private static int CheckGrid(int gridHeight, int gridWidth, int width, Slice<T> tables)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gridHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        tables.Require(BasisTableLayout.Length(gridHeight + gridWidth, width), nameof(tables));
        return checked(gridHeight * gridWidth);
    }

    public void Multiply(Slice<T> y, Slice<T> factor, int count)
    {
        y.Require(count, nameof(y));
        factor.Require(count, nameof(factor));
        CpuParallel.ForChunks(count, (_, start, length) => CpuOps.Multiply(y.Span().Slice(start, length), factor.Span().Slice(start, length)));
        Stored(y);
    }

    public void SineForward(Slice<T> z, Slice<T> u, Slice<T> bias, int rows, int width, T w0) =>
        LayerForward(z, u, bias, rows, width, (zs, us, b, count) => CpuOps.SineForward(zs, us, b, count, width, w0));

    public void SineBackward(Slice<T> du, Slice<T> dBias, Slice<T> dz, Slice<T> u, Slice<T> bias, int rows, int width, T w0) =>
        LayerBackward(du, dBias, dz, u, bias, rows, width, (dus, partial, dzs, us, b, count) => CpuOps.SineBackward(dus, partial, dzs, us, b, count, width, w0));

    /// <summary>w0 times the -L scale where there is one (the CPU reads it at once: its work is synchronous).</summary>
    private static T Scaled(T w0, Slice<T>? scale) => scale is { } k ? w0 * k.Require(1, nameof(scale)).Span()[0] : w0;

    public void MaskScaleGradient(Slice<T> dScale, Slice<T> du, Slice<T> u, Slice<T> a, Slice<T> scale, int rows, int width)
    {
        long count = (long)rows * width;
        du.Require(count, nameof(du));
        u.Require(count, nameof(u));
        a.Require(width, nameof(a));
        scale.Require(1, nameof(scale));
        dScale.Require(1, nameof(dScale));
        Span<T> total = stackalloc T[1];
        ReduceByChunks(rows, 1, total, (partial, start, length) => partial[0] += CpuOps.BiasedDot<T>(du.Span().Slice(start * width, length * width),
            u.Span().Slice(start * width, length * width), a.Span(), length, width));
        dScale.Span()[0] += total[0] / scale.Span()[0];
    }

    public void ReluForward(Slice<T> z, Slice<T> u, Slice<T> bias, int rows, int width) =>
        LayerForward(z, u, bias, rows, width, (zs, us, b, count) => CpuOps.ReluForward(zs, us, b, count, width));

    public void ReluBackward(Slice<T> du, Slice<T> dBias, Slice<T> dz, Slice<T> u, Slice<T> bias, int rows, int width) =>
        LayerBackward(du, dBias, dz, u, bias, rows, width, (dus, partial, dzs, us, b, count) => CpuOps.ReluBackward(dus, partial, dzs, us, b, count, width));

    private delegate void LayerForwardBlock(Span<T> z, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows);

    private delegate void LayerBackwardBlock(Span<T> du, Span<T> partial, ReadOnlySpan<T> dz, ReadOnlySpan<T> u, ReadOnlySpan<T> bias, int rows);

    /// <summary>A bias-and-activation layer's forward over blocks of rows on every core.</summary>
    private static void LayerForward(Slice<T> z, Slice<T> u, Slice<T> bias, int rows, int width, LayerForwardBlock block)
    {
        z.Require((long)rows * width, nameof(z));
        u.Require((long)rows * width, nameof(u));
        bias.Require(width, nameof(bias));
        CpuParallel.ForChunks(rows, (_, start, count) =>
            block(z.Span().Slice(start * width, count * width), u.Span().Slice(start * width, count * width), bias.Span()[..width], count));
        Stored(z);
    }

    /// <summary>Its backward, with the bias gradient reduced deterministically over the blocks.</summary>
    private void LayerBackward(Slice<T> du, Slice<T> dBias, Slice<T> dz, Slice<T> u, Slice<T> bias, int rows, int width, LayerBackwardBlock block)
    {
        du.Require((long)rows * width, nameof(du));
        dz.Require((long)rows * width, nameof(dz));
        u.Require((long)rows * width, nameof(u));
        bias.Require(width, nameof(bias));
        dBias.Require(width, nameof(dBias));
        ReduceByChunks(rows, width, dBias.Span()[..width], (partial, start, count) => block(
            du.Span().Slice(start * width, count * width), partial, dz.Span().Slice(start * width, count * width), u.Span().Slice(start * width, count * width),
            bias.Span()[..width], count));
        Stored(du);
    }

    public void FourierEncoding(Slice<T> h, Slice<T> x, Slice<T> frequencies, int rows, int features, int dims)
    {
        h.Require((long)rows * 2 * features, nameof(h));
        x.Require((long)rows * dims, nameof(x));
        frequencies.Require((long)features * dims, nameof(frequencies));
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.FourierEncoding(
            h.Span().Slice(start * 2 * features, count * 2 * features), x.Span().Slice(start * dims, count * dims), frequencies.Span()[..(features * dims)], count, features, dims));
        Stored(h);
    }

    public void MfnFilterForward(Slice<T> h, Slice<T>? u, Slice<T> x, Slice<T>? bias, Slice<T> filterWeight, Slice<T> filterBias,
        Slice<T>? mu, Slice<T>? gamma, int rows, int width, int dims)
    {
        MfnFilterArguments.CheckForward(h, u, x, bias, filterWeight, filterBias, mu, gamma, rows, width, dims);
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.MfnFilterForward(
            h.Span().Slice(start * width, count * width), Part(u, start * width, count * width), x.Span().Slice(start * dims, count * dims),
            Part(bias, 0, width), filterWeight.Span()[..(width * dims)], filterBias.Span()[..width], Part(mu, 0, width * dims), Part(gamma, 0, width),
            count, width, dims));
        Stored(h);
    }

    public void MfnFilterBackward(Slice<T>? du, Slice<T>? dBias, Slice<T> dFilterWeight, Slice<T> dFilterBias, Slice<T>? dMu, Slice<T>? dGamma,
        Slice<T> dh, Slice<T>? u, Slice<T>? bias, Slice<T> x, Slice<T> filterWeight, Slice<T> filterBias, Slice<T>? mu, Slice<T>? gamma,
        int rows, int width, int dims)
    {
        MfnFilterArguments.CheckBackward(du, dBias, dFilterWeight, dFilterBias, dMu, dGamma, dh, u, bias, x, filterWeight, filterBias, mu, gamma, rows, width, dims);
        bool multiply = u is not null, gabor = mu is not null;
        // One partial per chunk holds [dl | dc | dgamma | dF | dmu], in that order.
        int partialLength = width * (3 + 2 * dims);
        T[] totals = ArrayPool<T>.Shared.Rent(partialLength);
        Array.Clear(totals, 0, partialLength);
        ReduceByChunks(rows, partialLength, totals.AsSpan(0, partialLength), (partial, start, count) => CpuOps.MfnFilterBackward(
            Part(du, start * width, count * width), multiply ? partial[..width] : [], partial.Slice(3 * width, width * dims), partial.Slice(width, width),
            gabor ? partial.Slice(3 * width + width * dims, width * dims) : [], gabor ? partial.Slice(2 * width, width) : [],
            dh.Span().Slice(start * width, count * width), Part(u, start * width, count * width), Part(bias, 0, width), x.Span().Slice(start * dims, count * dims),
            filterWeight.Span()[..(width * dims)], filterBias.Span()[..width], Part(mu, 0, width * dims), Part(gamma, 0, width), count, width, dims));
        if (dBias is { } dl) AddInto(dl.Span()[..width], totals.AsSpan(0, width));
        AddInto(dFilterBias.Span()[..width], totals.AsSpan(width, width));
        if (dGamma is { } dg) AddInto(dg.Span()[..width], totals.AsSpan(2 * width, width));
        AddInto(dFilterWeight.Span()[..(width * dims)], totals.AsSpan(3 * width, width * dims));
        if (dMu is { } dm) AddInto(dm.Span()[..(width * dims)], totals.AsSpan(3 * width + width * dims, width * dims));
        ArrayPool<T>.Shared.Return(totals);
        Stored(du);
    }

    /// <summary>A part of an optional tensor, or an empty span where it is absent.</summary>
    private static Span<T> Part(Slice<T>? slice, int start, int length) => slice is { } s ? s.Span().Slice(start, length) : [];

    public void GaborWaveletForward(Slice<T> z, Slice<T> t, Slice<T> bias, int rows, int width, T omega, T scale, bool complexArgument)
    {
        int row = 2 * width, biasLength = complexArgument ? 2 * width : width;
        z.Require((long)rows * row, nameof(z));
        t.Require((long)rows * row, nameof(t));
        bias.Require(biasLength, nameof(bias));
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.GaborWaveletForward(
            z.Span().Slice(start * row, count * row), t.Span().Slice(start * row, count * row), bias.Span()[..biasLength],
            count, width, omega, scale, complexArgument));
        Stored(z);
    }

    public void GaborWaveletBackward(Slice<T> dt, Slice<T> dBias, Slice<T> dz, Slice<T> t, Slice<T> bias, Slice<T> z, int rows, int width, T omega, T scale,
        bool complexArgument)
    {
        int row = 2 * width, biasLength = complexArgument ? 2 * width : width;
        bias.Require(biasLength, nameof(bias));
        dt.Require((long)rows * row, nameof(dt));
        dz.Require((long)rows * row, nameof(dz));
        t.Require((long)rows * row, nameof(t));
        z.Require((long)rows * row, nameof(z));
        dBias.Require(biasLength, nameof(dBias));
        ReduceByChunks(rows, biasLength, dBias.Span()[..biasLength], (partial, start, count) => CpuOps.GaborWaveletBackward(
            dt.Span().Slice(start * row, count * row), partial, dz.Span().Slice(start * row, count * row),
            t.Span().Slice(start * row, count * row), bias.Span()[..biasLength], z.Span().Slice(start * row, count * row), count, width, omega, scale, complexArgument));
        Stored(dt);
    }

    public void MseLoss(Slice<T> dy, Slice<T> sums, Slice<T> y, Slice<T> target, int rows, int cols)
    {
        int length = rows * cols;
        dy.Require(length, nameof(dy));
        y.Require(length, nameof(y));
        target.Require(length, nameof(target));
        sums.Require(2, nameof(sums));
        T scale = T.CreateTruncating(2.0 / length);
        int chunks = CpuParallel.ChunkCount(rows);
        double[] partials = ArrayPool<double>.Shared.Rent(2 * chunks);
        CpuParallel.ForChunks(rows, (chunk, start, count) =>
        {
            int offset = start * cols, size = count * cols;
            var (squared, clipped) = CpuOps.MseLoss(dy.Span().Slice(offset, size), y.Span().Slice(offset, size), target.Span().Slice(offset, size), scale);
            partials[2 * chunk] = squared;
            partials[2 * chunk + 1] = clipped;
        });
        double totalSquared = 0, totalClipped = 0;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            totalSquared += partials[2 * chunk];
            totalClipped += partials[2 * chunk + 1];
        }
        ArrayPool<double>.Shared.Return(partials);
        var s = sums.Span();
        s[0] = T.CreateTruncating(totalSquared);
        s[1] = T.CreateTruncating(totalClipped);
    }

    /// <summary>
    /// The output layer's primitives in the order its forward, the trainer's loss and its backward
    /// run them, on a y and dy of its own: the same numbers, bit for bit, as the unfused path.
    /// </summary>
    public void LinearMseLoss(Slice<T> dz, Slice<T> dWeight, Slice<T> dBias, Slice<T> sums, Slice<T> z, Slice<T> target, Slice<T> weight, Slice<T> bias,
        int rows, int inWidth, int cols)
    {
        // y and dy in a scratch buffer kept for the next step (a few MB at full batch: not a fresh allocation each step).
        int length = checked(rows * cols);
        if (_lossScratch is null || _lossScratch.Length < 2 * length)
            _lossScratch = new CpuBuffer<T>(checked(2 * length));
        var (y, dy) = (_lossScratch.Slice(0, length), _lossScratch.Slice(length, length));
        Gemm(false, true, rows, cols, inWidth, T.One, z, inWidth, weight, inWidth, T.Zero, y, cols);
        AddBias(y, bias, rows, cols);
        MseLoss(dy, sums, y, target, rows, cols);
        Gemm(true, false, cols, inWidth, rows, T.One, dy, cols, z, inWidth, T.One, dWeight, inWidth);
        ColumnSum(dBias, dy, rows, cols);
        Gemm(false, false, rows, inWidth, cols, T.One, dy, cols, weight, inWidth, T.Zero, dz, inWidth);
    }

    public void AdamStep(Slice<T> parameters, Slice<T> m, Slice<T> v, Slice<T> gradients, Slice<T> schedule, AdamArguments arguments)
    {
        int length = parameters.Length;
        m.Require(length, nameof(m));
        v.Require(length, nameof(v));
        gradients.Require(length, nameof(gradients));
        schedule.Require(AdamArguments.ScheduleLength, nameof(schedule));
        CpuParallel.ForRange(length, (start, count) => CpuOps.AdamStep(
            parameters.Span().Slice(start, count), m.Span().Slice(start, count), v.Span().Slice(start, count),
            gradients.Span().Slice(start, count), schedule.Span(), arguments));
    }

    public void GatherRows(Slice<T> destination, Slice<T> source, Slice<int> indices, int rows, int cols)
    {
        destination.Require((long)rows * cols, nameof(destination));
        indices.Require(rows, nameof(indices));
        int sourceRows = source.Length / cols;
        foreach (int index in indices.Span()[..rows])
            if ((uint)index >= (uint)sourceRows)
                throw new ArgumentOutOfRangeException(nameof(indices), $"row index {index} is outside a source of {sourceRows} rows");
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.GatherRows(
            destination.Span().Slice(start * cols, count * cols), source.Span(), indices.Span().Slice(start, count), cols));
    }

    public void RandomIndices(Slice<int> indices, Slice<int> step, int rows, int count, ulong seed)
    {
        indices.Require(rows, nameof(indices));
        step.Require(1, nameof(step));
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int current = step.Span()[0];
        CpuParallel.ForChunks(rows, (_, start, chunk) => CpuOps.RandomIndices(indices.Span().Slice(start, chunk), start, count, seed, current));
    }

    public void GatherVideoPoints(Slice<T> x, Slice<T> target, Slice<byte> frames, Slice<int> indices, int rows, int frameCount, int height, int width)
    {
        x.Require((long)rows * VideoPoints.Dims, nameof(x));
        target.Require((long)rows * VideoPoints.Channels, nameof(target));
        indices.Require(rows, nameof(indices));
        long points = (long)frameCount * height * width;
        frames.Require(points * VideoPoints.Channels, nameof(frames));
        foreach (int index in indices.Span()[..rows])
            if ((ulong)index >= (ulong)points)
                throw new ArgumentOutOfRangeException(nameof(indices), $"point index {index} is outside a video of {points} points");
        CpuParallel.ForChunks(rows, (_, start, count) => CpuOps.GatherVideoPoints(
            x.Span().Slice(start * VideoPoints.Dims, count * VideoPoints.Dims), target.Span().Slice(start * VideoPoints.Channels, count * VideoPoints.Channels),
            frames.Span(), indices.Span().Slice(start, count), frameCount, height, width));
    }

    public void Synchronize()
    {
    }

    public void Dispose()
    {
    }

    /// <summary>
    /// Runs body(partial, firstRow, rowCount) per chunk, each chunk into its own zeroed partial of
    /// the given length, then adds the partials into total in chunk order.
    /// </summary>
    private delegate void ChunkReduction(Span<T> partial, int start, int count);

    private static void ReduceByChunks(int rows, int length, Span<T> total, ChunkReduction body)
    {
        int chunks = CpuParallel.ChunkCount(rows);
        T[] partials = ArrayPool<T>.Shared.Rent(chunks * length);
        Array.Clear(partials, 0, chunks * length);
        CpuParallel.ForChunks(rows, (chunk, start, count) => body(partials.AsSpan(chunk * length, length), start, count));
        for (int chunk = 0; chunk < chunks; chunk++)
            AddInto(total, partials.AsSpan(chunk * length, length));
        ArrayPool<T>.Shared.Return(partials);
    }

    private static void AddInto(Span<T> total, ReadOnlySpan<T> part)
    {
        for (int i = 0; i < total.Length; i++)
            total[i] += part[i];
    }

    private static void CheckLayer(int rows, int width, int dims, Slice<T> output, Slice<T> u, Slice<T> x, Slice<T> bias, Slice<T> basisWeight, Slice<T> basisBias)
    {
        output.Require((long)rows * width, nameof(output));
        u.Require((long)rows * width, nameof(u));
        x.Require((long)rows * dims, nameof(x));
        bias.Require(width, nameof(bias));
        basisWeight.Require((long)width * dims, nameof(basisWeight));
        basisBias.Require(width, nameof(basisBias));
    }
}
