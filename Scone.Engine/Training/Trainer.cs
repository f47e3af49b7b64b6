using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Metrics;
using Scone.Engine.Models;

namespace Scone.Engine.Training;

/// <summary>
/// The autograd-free training loop: sample, forward, loss, zero grad, backward, Adam with the
/// cosine rate. Parameters, gradients and both Adam moments are flat buffers with the network's
/// layout; Adam updates its trained prefix, never the fixed tensors after it. The trainer also keeps a copy of the parameters that gave the best PSNR seen so far,
/// since the paper reports the best PSNR of a run.
/// </summary>
public sealed class Trainer<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly INetwork<T> _network;
    private readonly IBatchSource<T> _source;
    private readonly bool _ownsSource;
    private readonly TrainerOptions _options;
    private readonly DeviceBuffer<T> _parameters, _gradients, _m, _v, _best, _stepStart;
    private readonly DeviceBuffer<T> _y, _dy, _sums, _schedule;
    private readonly T[] _hostSums = new T[2], _hostSchedule = new T[AdamArguments.ScheduleLength];
    private readonly AdamArguments _adam = new();
    private IReplayable? _capturedStep;

    /// <summary>Trains on a signal stored on the device: every sample per step, or options.BatchSize drawn at random.</summary>
    /// <param name="network">Allocated for at least the batch size (every sample when BatchSize is 0).</param>
    public Trainer(IBackend<T> backend, INetwork<T> network, TrainingData<T> data, TrainerOptions options, ReadOnlySpan<double> initialParameters)
        : this(backend, network, new StoredSamples<T>(backend, data, options.Validate().BatchSize, SamplingSeed(options.Seed)), options, initialParameters, ownsSource: true)
    {
    }

    /// <summary>Trains on batches from <paramref name="source"/>, which the caller owns.</summary>
    public Trainer(IBackend<T> backend, INetwork<T> network, IBatchSource<T> source, TrainerOptions options, ReadOnlySpan<double> initialParameters)
        : this(backend, network, source, options, initialParameters, ownsSource: false)
    {
    }

    private Trainer(IBackend<T> backend, INetwork<T> network, IBatchSource<T> source, TrainerOptions options, ReadOnlySpan<double> initialParameters, bool ownsSource)
    {
        _backend = backend;
        _network = network;
        _source = source;
        _ownsSource = ownsSource;
        _options = options.Validate();
        if (source.Dims != network.Model.InputDims || source.Channels != network.Model.OutputDims)
            throw new ArgumentException($"a {source.Dims}-to-{source.Channels} signal for a {network.Model.InputDims}-to-{network.Model.OutputDims} network");
        if (BatchRows > network.Capacity)
            throw new ArgumentException($"batches of {BatchRows} for a network allocated for {network.Capacity}");

        int count = network.Layout.Count;
        if (initialParameters.Length != count)
            throw new ArgumentException($"{initialParameters.Length} initial parameters for a layout of {count}", nameof(initialParameters));
        _parameters = backend.Allocate<T>(count);
        _gradients = backend.Allocate<T>(count);
        _m = backend.Allocate<T>(count);
        _v = backend.Allocate<T>(count);
        _best = backend.Allocate<T>(count);
        _stepStart = backend.Allocate<T>(count);
        backend.Upload(_parameters.All, Convert(initialParameters));
        backend.Copy(_best.All, _parameters.All);

        int rows = Math.Max(BatchRows, source is StoredSamples<T> stored ? Math.Min(network.Capacity, stored.Rows) : 0);
        _y = backend.Allocate<T>(rows * source.Channels);
        _dy = backend.Allocate<T>(rows * source.Channels);
        _sums = backend.Allocate<T>(2);
        _schedule = backend.Allocate<T>(AdamArguments.ScheduleLength);
    }

    /// <summary>The seed of the batches, derived from the run's seed so that it differs from the initialisation's.</summary>
    public static ulong SamplingSeed(ulong seed) => seed ^ 0x5A4D_504C_4552UL;

    public int BatchRows => _source.BatchRows;

    /// <summary>The number of steps taken so far: the index of the next step.</summary>
    public int StepsTaken { get; private set; }

    public double BestPsnr { get; private set; } = double.NegativeInfinity;

    /// <summary>The step whose parameters gave <see cref="BestPsnr"/>; Steps for the final network.</summary>
    public int BestStep { get; private set; } = -1;

    public bool FullBatch => _source.EverySample;

    /// <summary>Whether steps replay a captured graph (on a backend that can capture, unless the options say no).</summary>
    public bool CapturesSteps => _options.CaptureSteps && _backend is ICapturingBackend { CanCapture: true };

    /// <summary>
    /// One step. Its loss and PSNR are measured before its update; they are read back once, after
    /// the update, so that nothing waits on the device inside the step. For the best-PSNR copy the
    /// parameters the step started from are kept on the device. A step launches the same work
    /// every time, so where the backend can, it is captured once and replayed; what changes from
    /// step to step (the Adam schedule, the step number the batch is drawn with, a batch sampled on
    /// the host) is uploaded to device memory first.
    /// </summary>
    public StepResult Step()
    {
        int step = StepsTaken;
        double rate = CosineSchedule.LearningRate(step, _options.Steps, _options.LearningRate, _options.FinalLearningRate);
        _adam.WriteSchedule<T>(_hostSchedule, rate, step + 1);
        _backend.Upload(_schedule.All, _hostSchedule);
        _source.Prepare(step);
        if (FullBatch)
            _backend.Copy(_stepStart.All, _parameters.All);
        if (CapturesSteps)
        {
            _capturedStep ??= ((ICapturingBackend)_backend).Capture(Train);
            _capturedStep.Launch();
        }
        else
        {
            Train();
        }

        var (loss, psnr) = ReadSums(BatchRows);
        if (FullBatch)
            Consider(psnr, step, _stepStart);
        StepsTaken++;
        return new StepResult(step, loss, _source.HasPsnr ? psnr : double.NaN, rate);
    }

    /// <summary>The step's batch, forward, loss, zero grad, backward and Adam: all queued, nothing read back.</summary>
    private void Train()
    {
        var (x, target) = _source.Batch();
        var y = _y.Slice(0, BatchRows * _source.Channels);
        var dy = _dy.Slice(0, BatchRows * _source.Channels);
        _network.Forward(y, x, _parameters.All, BatchRows);
        _backend.MseLoss(dy, _sums.All, y, target, BatchRows, _source.Channels);
        _backend.Fill(_gradients.All, T.Zero);
        _network.Backward(_gradients.All, dy, x, _parameters.All, BatchRows);
        int trained = _network.Layout.TrainedLength;
        _backend.AdamStep(_parameters.Slice(0, trained), _m.Slice(0, trained), _v.Slice(0, trained), _gradients.Slice(0, trained), _schedule.All, _adam);
    }

    /// <summary>
    /// The PSNR of the current parameters over every sample of a stored signal; counts towards the
    /// best (a run's final network is evaluated this way, and mini-batch runs are only ever judged this way).
    /// </summary>
    public double Evaluate()
    {
        if (_source is not StoredSamples<T> stored)
            throw new InvalidOperationException("Evaluate needs a signal stored on the device; evaluate other signals from the downloaded parameters");
        double clipped = 0;
        for (int start = 0; start < stored.Rows; start += _network.Capacity)
        {
            int rows = Math.Min(_network.Capacity, stored.Rows - start);
            var y = _y.Slice(0, rows * stored.Channels);
            _network.Forward(y, stored.Inputs.Slice(start * stored.Dims, rows * stored.Dims), _parameters.All, rows);
            _backend.MseLoss(_dy.Slice(0, rows * stored.Channels), _sums.All, y, stored.Targets.Slice(start * stored.Channels, rows * stored.Channels), rows, stored.Channels);
            _backend.Download(_hostSums, _sums.All);
            clipped += double.CreateTruncating(_hostSums[1]);
        }
        double psnr = Psnr.FromMse(clipped / ((double)stored.Rows * stored.Channels));
        RecordScore(psnr);
        return psnr;
    }

    /// <summary>Counts a PSNR measured elsewhere on the current parameters towards the best, keeping them if it is.</summary>
    public void RecordScore(double psnr) => Consider(psnr, StepsTaken, _parameters);

    /// <summary>The current or best parameters, on the host.</summary>
    public T[] DownloadParameters(bool best = false)
    {
        var values = new T[_network.Layout.Count];
        _backend.Download(values, best ? _best.All : _parameters.All);
        return values;
    }

    private (double Loss, double Psnr) ReadSums(int rows)
    {
        _backend.Download(_hostSums, _sums.All);
        double count = (double)rows * _source.Channels;
        return (double.CreateTruncating(_hostSums[0]) / count, Psnr.FromMse(double.CreateTruncating(_hostSums[1]) / count));
    }

    private void Consider(double psnr, int step, DeviceBuffer<T> parameters)
    {
        if (psnr <= BestPsnr) return;
        BestPsnr = psnr;
        BestStep = step;
        _backend.Copy(_best.All, parameters.All);
    }

    private static T[] Convert(ReadOnlySpan<double> values)
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = T.CreateTruncating(values[i]);
        return result;
    }

    public void Dispose()
    {
        _capturedStep?.Dispose();
        foreach (var buffer in new[] { _parameters, _gradients, _m, _v, _best, _stepStart, _y, _dy, _sums, _schedule })
            buffer.Dispose();
        if (_ownsSource)
            _source.Dispose();
    }
}
