using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Scone.Cli.Bench;

/// <summary>
/// OpenBLAS's cblas_sgemm, the yardstick for CpuGemm. OpenBLAS is optional: when no candidate library
/// loads, <see cref="IsAvailable"/> is false, <see cref="Status"/> says what was tried, and timings are null.
/// </summary>
/// <remarks>
/// The import binds to a logical name that this assembly's DllImport resolver maps to whichever
/// candidate loaded, so a missing library is found out here, never by a DllNotFoundException at a call.
/// OpenBLAS runs on all cores unless OPENBLAS_NUM_THREADS says otherwise.
/// </remarks>
public static unsafe partial class OpenBlasYardstick
{
    const string Library = "scone-openblas-yardstick";
    static readonly string[] s_candidates = ["libopenblas.so.0", "libopenblas.so", "libblas.so.3"];
    static readonly nint s_handle;

    /// <summary>Whether a library exporting cblas_sgemm was loaded.</summary>
    public static bool IsAvailable => s_handle != 0;

    /// <summary>The library in use, or why there is none.</summary>
    public static string Status { get; }

    static OpenBlasYardstick()
    {
        foreach (string name in s_candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint handle)) continue;
            // libblas.so.3 is OpenBLAS only where Debian's alternative points there; the reference BLAS is no yardstick.
            if (!NativeLibrary.TryGetExport(handle, nameof(cblas_sgemm), out _) || !NativeLibrary.TryGetExport(handle, "openblas_get_config", out _))
            {
                NativeLibrary.Free(handle);
                continue;
            }
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(OpenBlasYardstick).Assembly,
                    (library, _, _) => library == Library ? handle : 0);
            }
            catch (InvalidOperationException)
            {
                // An assembly has one resolver; if someone else set it, go without the yardstick.
                NativeLibrary.Free(handle);
                Status = $"{name} loaded, but {typeof(OpenBlasYardstick).Assembly.GetName().Name} already has a DllImport resolver";
                return;
            }
            s_handle = handle;
            Status = name;
            return;
        }
        Status = $"no OpenBLAS cblas_sgemm found (tried {string.Join(", ", s_candidates)})";
    }

    /// <summary>
    /// Median milliseconds of row-major C[m,n] = op(A)[m,k] * op(B)[k,n] + beta * C with OpenBLAS,
    /// on random data with minimal strides, after <paramref name="warmup"/> untimed calls; null without OpenBLAS.
    /// </summary>
    public static double? TimeSgemm(bool transA, bool transB, int m, int n, int k, float beta = 0,
        int warmup = 2, int repetitions = 9)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (!IsAvailable) return null;
        var random = new Random(1);
        float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n), c = RandomArray(random, m * n);
        // BLAS wants every stride at least 1, even for an empty matrix.
        int lda = Math.Max(1, transA ? m : k), ldb = Math.Max(1, transB ? k : n), ldc = Math.Max(1, n);
        fixed (float* pa = a, pb = b, pc = c)
        {
            float* ca = pa, cb = pb, cc = pc;
            return MedianMilliseconds(() => cblas_sgemm(CBLAS_ORDER.CblasRowMajor, Transpose(transA), Transpose(transB),
                m, n, k, 1, ca, lda, cb, ldb, beta, cc, ldc), warmup, repetitions);
        }
    }

    /// <summary>Median wall time of <paramref name="run"/> in milliseconds, after untimed warm-up calls.</summary>
    public static double MedianMilliseconds(Action run, int warmup, int repetitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        for (int i = 0; i < warmup; i++) run();
        var times = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[repetitions / 2];
    }

    static void CheckFits(int length, int rows, int cols, int ld, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows, name);
        ArgumentOutOfRangeException.ThrowIfNegative(cols, name);
        if (ld < Math.Max(1, cols) || length < (rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols))
            throw new ArgumentException($"{name}: {rows} x {cols} with stride {ld} does not fit {length} elements", name);
    }

    static float[] RandomArray(Random random, int length)
    {
        var array = new float[length];
        for (int i = 0; i < length; i++) array[i] = random.NextSingle() * 2 - 1;
        return array;
    }

    static CBLAS_TRANSPOSE Transpose(bool trans) => trans ? CBLAS_TRANSPOSE.CblasTrans : CBLAS_TRANSPOSE.CblasNoTrans;

    enum CBLAS_ORDER
    {
        CblasRowMajor = 101,
        CblasColMajor = 102,
    }

    enum CBLAS_TRANSPOSE
    {
        CblasNoTrans = 111,
        CblasTrans = 112,
        CblasConjTrans = 113,
    }

    [LibraryImport(Library)]
    private static partial void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE transA, CBLAS_TRANSPOSE transB,
        int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
