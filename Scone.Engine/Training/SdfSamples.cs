using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Signals;

namespace Scone.Engine.Training;

/// <summary>
/// The SDF protocol's batches: a producer thread prepares the batches of the coming steps with
/// <see cref="SdfSampler"/> (neighbour search on all cores) while the device trains on the current
/// one; each step only uploads. <see cref="WaitSeconds"/> is how long training waited on sampling.
/// </summary>
public sealed class SdfSamples<T> : IBatchSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Batches prepared ahead: enough to ride out a slow one, few enough to stay small.</summary>
    public const int Lookahead = 3;

    /// <summary>A batch's host buffers, reused: the producer fills them and stamps the step.</summary>
    private sealed class PreparedBatch(T[] x, T[] sdf)
    {
        public int Step { get; set; } = -1;
        public T[] X { get; } = x;
        public T[] Sdf { get; } = sdf;
    }

    private readonly IBackend<T> _backend;
    private readonly SdfSampler _sampler;
    private readonly DeviceBuffer<T> _x, _target;
    private readonly BlockingCollection<PreparedBatch> _ready = new(Lookahead);
    private readonly ConcurrentBag<PreparedBatch> _free = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _producer;
    private readonly int _firstStep, _steps;
    private Exception? _failure;
    private long _waitTicks, _sampleTicks;

    /// <param name="steps">Batches for steps <paramref name="firstStep"/> .. steps-1 are prepared, in order.</param>
    /// <param name="firstStep">Where a continued run starts (its saved state's step).</param>
    public SdfSamples(IBackend<T> backend, SdfSampler sampler, int batchSize, int steps, int firstStep = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(firstStep);
        _backend = backend;
        _sampler = sampler;
        _firstStep = firstStep;
        _steps = steps;
        BatchRows = batchSize;
        _x = backend.Allocate<T>(batchSize * Dims);
        _target = backend.Allocate<T>(batchSize);
        for (int i = 0; i < Lookahead + 2; i++)
            _free.Add(new PreparedBatch(new T[batchSize * Dims], new T[batchSize]));
        _producer = new Thread(Produce) { IsBackground = true, Name = "sdf sampler" };
        _producer.Start();
    }

    public int Dims => 3;
    public int Channels => 1;
    public int BatchRows { get; }
    public bool EverySample => false;
    public bool HasPsnr => false;

    /// <summary>Seconds the trainer spent waiting for a batch that was not ready.</summary>
    public double WaitSeconds => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _waitTicks)).TotalSeconds;

    /// <summary>Seconds the producer spent preparing batches (beside training, not in its way unless <see cref="WaitSeconds"/> says so).</summary>
    public double SampleSeconds => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _sampleTicks)).TotalSeconds;

    /// <summary>Batches prepared so far.</summary>
    public int BatchesPrepared { get; private set; }

    /// <summary>Takes the step's batch from the producer (waiting if it is not ready) and uploads it.</summary>
    public void Prepare(int step)
    {
        long start = Stopwatch.GetTimestamp();
        PreparedBatch batch;
        try
        {
            batch = _ready.Take(_stop.Token);
        }
        catch (InvalidOperationException) when (_failure is not null)
        {
            throw new InvalidOperationException("preparing SDF batches failed", _failure);
        }
        Interlocked.Add(ref _waitTicks, Stopwatch.GetTimestamp() - start);
        if (batch.Step != step)
            throw new InvalidOperationException($"the batch of step {batch.Step} arrived for step {step}: SDF batches are drawn in step order");
        _backend.Upload(_x.All, batch.X);
        _backend.Upload(_target.All, batch.Sdf);
        _free.Add(batch);
    }

    /// <summary>The uploaded batch: no device work.</summary>
    public (Slice<T> X, Slice<T> Target) Batch() => (_x.All, _target.All);

    private void Produce()
    {
        var x = new float[BatchRows * Dims];
        var sdf = new float[BatchRows];
        var scratch = new Vector3[BatchRows];
        try
        {
            for (int step = _firstStep; step < _steps && !_stop.IsCancellationRequested; step++)
            {
                long start = Stopwatch.GetTimestamp();
                _sampler.Sample(step, x, sdf, scratch);
                if (!_free.TryTake(out var batch))
                    batch = new PreparedBatch(new T[BatchRows * Dims], new T[BatchRows]);
                batch.Step = step;
                for (int i = 0; i < x.Length; i++) batch.X[i] = T.CreateTruncating(x[i]);
                for (int i = 0; i < sdf.Length; i++) batch.Sdf[i] = T.CreateTruncating(sdf[i]);
                Interlocked.Add(ref _sampleTicks, Stopwatch.GetTimestamp() - start);
                BatchesPrepared = step + 1 - _firstStep;
                _ready.Add(batch, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _failure = e;
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _producer.Join();
        _x.Dispose();
        _target.Dispose();
        _ready.Dispose();
        _stop.Dispose();
    }
}
