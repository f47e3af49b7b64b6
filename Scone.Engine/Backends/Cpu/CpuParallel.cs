namespace Scone.Engine.Backends.Cpu;

/// <summary>
/// Splits rows into fixed chunks and runs them on all cores. The chunking depends only on the row
/// count, never on the number of threads, so reductions that combine per-chunk partials in chunk
/// order give the same bits on every run: training on the CPU is deterministic for a seed.
/// </summary>
internal static class CpuParallel
{
    public const int RowsPerChunk = 256;

    public static int ChunkCount(int rows) => (rows + RowsPerChunk - 1) / RowsPerChunk;

    /// <summary>Calls body(chunk, firstRow, rowCount) for every chunk.</summary>
    public static void ForChunks(int rows, Action<int, int, int> body)
    {
        int chunks = ChunkCount(rows);
        if (chunks == 1)
        {
            body(0, 0, rows);
            return;
        }
        Parallel.For(0, chunks, chunk =>
        {
            int start = chunk * RowsPerChunk;
            body(chunk, start, Math.Min(RowsPerChunk, rows - start));
        });
    }

    /// <summary>Runs body over [0, length) in contiguous pieces on all cores (element-wise work).</summary>
    public static void ForRange(int length, Action<int, int> body)
    {
        const int Piece = 1 << 14;
        int pieces = (length + Piece - 1) / Piece;
        if (pieces <= 1)
        {
            body(0, length);
            return;
        }
        Parallel.For(0, pieces, piece =>
        {
            int start = piece * Piece;
            body(start, Math.Min(Piece, length - start));
        });
    }
}
