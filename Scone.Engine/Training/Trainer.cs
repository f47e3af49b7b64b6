using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Metrics;
using Scone.Engine.Models;

namespace Scone.Engine.Training;

/// <summary>
/// The autograd-free training loop: sample, zero grad, forward, loss and backward (one call to the
/// network, which may fuse its output layer with the loss), Adam with the cosine rate. Parameters, gradients and both Adam moments are flat buffers with the network's
/// layout; Adam updates its trained prefix, never the fixed tensors after it. The trainer also
/// keeps a copy of the parameters that gave the best PSNR seen so far,
/// since the paper reports the best PSNR of a run, and, for runs not scored every step, of those
/// that gave the lowest loss, so that a run whose loss stops being finite can go back to them
/// (<see cref="Stopped"/>). Its whole state can be saved and restored (<see cref="SaveState"/>),
/// so that a run continued from it takes the same steps, bit for bit, as one never stopped.
/// </summary>
public sealed class Trainer<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly INetwork<T> _network;
    private readonly IBatchSource<T> _source;
    private readonly bool _ownsSource;
    private readonly TrainerOptions _options;
    private readonly DeviceBuffer<T> _parameters, _gradients, _m, _v, _best, _stepStart;
    private readonly DeviceBuffer<T>? _lowestLoss;
    private readonly DeviceBuffer<T> _y, _dy, _sums, _schedule;
    private readonly T[] _hostSums = new T[2], _hostSchedule = new T[AdamArguments.ScheduleLength];
    private readonly AdamArguments _adam = new();
    private readonly GridRows? _grid;
    private IReplayable? _capturedStep;
    private bool _steppedUncaptured;

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
        if (!ScoredEveryStep)
        {
            _lowestLoss = backend.Allocate<T>(count);
            backend.Copy(_lowestLoss.All, _parameters.All);
        }

        int rows = Math.Max(BatchRows, source is StoredSamples<T> stored ? Math.Min(network.Capacity, stored.Rows) : 0);
        _y = backend.Allocate<T>(rows * source.Channels);
        _dy = backend.Allocate<T>(rows * source.Channels);
        _sums = backend.Allocate<T>(2);
        _schedule = backend.Allocate<T>(AdamArguments.ScheduleLength);
        _grid = _options.SeparableBasis ? source.Grid : null;
        // Now, before a step is captured: captured work cannot allocate.
        if (_grid is not null)
            network.PrepareGrid(_grid);
    }

    /// <summary>The seed of the batches, derived from the run's seed so that it differs from the initialisation's.</summary>
    public static ulong SamplingSeed(ulong seed) => seed ^ 0x5A4D_504C_4552UL;

    public int BatchRows => _source.BatchRows;

    /// <summary>The number of steps taken so far: the index of the next step.</summary>
    public int StepsTaken { get; private set; }

    public double BestPsnr { get; private set; } = double.NegativeInfinity;

    /// <summary>The step whose parameters gave <see cref="BestPsnr"/>; Steps for the final network.</summary>
    public int BestStep { get; private set; } = -1;

    /// <summary>The lowest finite loss of a step so far, on runs not scored every step (+inf before the first).</summary>
    public double LowestLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Why the run stopped before its last step, or null while it has not.</summary>
    public TrainingStop? Stopped { get; private set; }

    public bool FullBatch => _source.EverySample;

    /// <summary>Steps tell the network that their batch is a whole grid (<see cref="TrainerOptions.SeparableBasis"/>).</summary>
    public bool StepsOnGrid => _grid is not null;

    /// <summary>Every step measures the PSNR of the whole signal, so the best parameters are known at every step.</summary>
    private bool ScoredEveryStep => _source.EverySample && _source.HasPsnr;

    /// <summary>Whether steps replay a captured graph (on a backend that can capture, unless the options say no).</summary>
    public bool CapturesSteps => _options.CaptureSteps && _backend is ICapturingBackend { CanCapture: true };

    /// <summary>
    /// One step. Its loss and PSNR are measured before its update; they are read back once, after
    /// the update, so that nothing waits on the device inside the step. For the best copies the
    /// parameters the step started from are kept on the device. A step launches the same work
    /// every time, so where the backend can, it is captured once and replayed; what changes from
    /// step to step (the Adam schedule, the step number the batch is drawn with, a batch sampled on
    /// the host) is uploaded to device memory first. A loss that is not finite stops the run
    /// (<see cref="Stopped"/>): the parameters go back to the best so far (by PSNR where every step
    /// is scored, else by loss), since the update made from that loss is not worth keeping.
    /// </summary>
    /// <exception cref="InvalidOperationException">The run has stopped.</exception>
    public StepResult Step()
    {
        if (Stopped is not null)
            throw new InvalidOperationException($"the run has stopped: {Stopped}");
        int step = StepsTaken;
        double rate = CosineSchedule.LearningRate(step, _options.Steps, _options.LearningRate, _options.FinalLearningRate);
        _adam.WriteSchedule<T>(_hostSchedule, rate, step + 1);
        _backend.Upload(_schedule.All, _hostSchedule);
        _source.Prepare(step);
        _backend.Copy(_stepStart.All, _parameters.All);
        // The first step runs uncaptured, so that what a backend allocates on first use (the
        // bfloat16 copies of GEMM operands) exists before a capture, inside which nothing may be allocated.
        if (CapturesSteps && _steppedUncaptured)
        {
            _capturedStep ??= ((ICapturingBackend)_backend).Capture(Train);
            _capturedStep.Launch();
        }
        else
        {
            Train();
            _steppedUncaptured = true;
        }

        var (loss, psnr) = ReadSums(BatchRows);
        StepsTaken++;
        if (!double.IsFinite(loss))
        {
            _backend.Copy(_parameters.All, (_lowestLoss ?? _best).All);
            Stopped = new TrainingStop(StopReason.Diverged, StepsTaken);
        }
        else if (ScoredEveryStep)
        {
            Consider(psnr, step, _stepStart);
        }
        else if (loss < LowestLoss)
        {
            LowestLoss = loss;
            _backend.Copy(_lowestLoss!.All, _stepStart.All);
        }
        return new StepResult(step, loss, _source.HasPsnr ? psnr : double.NaN, rate);
    }

    /// <summary>
    /// Takes the remaining steps of the run, calling <paramref name="afterStep"/> after each, and
    /// stops early at the end of a step when <paramref name="interrupted"/> says so (recorded in
    /// <see cref="Stopped"/>) or when a loss is not finite.
    /// </summary>
    public void Run(Func<bool> interrupted, Action<StepResult> afterStep)
    {
        while (StepsTaken < _options.Steps && Stopped is null)
        {
            if (interrupted())
            {
                Stopped = new TrainingStop(StopReason.Interrupted, StepsTaken);
                return;
            }
            afterStep(Step());
        }
    }

    /// <summary>
    /// Everything a run continued later needs: the step, the parameters, the Adam moments and the
    /// best copies, each in the unpadded layout (<see cref="ParameterLayout.Unpadded"/>), so that a
    /// run continues whether or not either pads its widths.
    /// </summary>
    public TrainingState<T> SaveState() => new(StepsTaken, DownloadUnpadded(_parameters), DownloadUnpadded(_m), DownloadUnpadded(_v),
        DownloadUnpadded(_best), BestPsnr, BestStep, _lowestLoss is null ? null : DownloadUnpadded(_lowestLoss), LowestLoss);

    /// <summary>
    /// Continues from a state saved by a trainer of the same network and options; the steps after
    /// it are the steps an uninterrupted run takes (bit for bit on a deterministic backend).
    /// </summary>
    /// <exception cref="InputException">The state does not fit this network and run.</exception>
    public void RestoreState(TrainingState<T> state)
    {
        var unpadded = _network.Layout.Unpadded();
        int count = unpadded.Count;
        if (state.Step < 0 || state.Step > _options.Steps)
            throw new InputException($"the saved state is at step {state.Step}, outside this run's {_options.Steps} steps");
        foreach (var (name, values) in new[] { ("parameters", state.Parameters), ("adam.m", state.M), ("adam.v", state.V), ("best", state.Best) })
            if (values.Length != count)
                throw new InputException($"the saved {name} hold {values.Length} values; the network has {count} parameters");
        if ((state.LowestLossParameters is null) != (_lowestLoss is null) || (state.LowestLossParameters is { } lowest && lowest.Length != count))
            throw new InputException("the saved state was written by a run with another kind of batches");
        _backend.Upload(_parameters.All, unpadded.Transfer<T>(state.Parameters, _network.Layout));
        _backend.Upload(_m.All, unpadded.Transfer<T>(state.M, _network.Layout));
        _backend.Upload(_v.All, unpadded.Transfer<T>(state.V, _network.Layout));
        _backend.Upload(_best.All, unpadded.Transfer<T>(state.Best, _network.Layout));
        if (_lowestLoss is not null)
            _backend.Upload(_lowestLoss.All, unpadded.Transfer<T>(state.LowestLossParameters!, _network.Layout));
        StepsTaken = state.Step;
        BestPsnr = state.BestPsnr;
        BestStep = state.BestStep;
        LowestLoss = state.LowestLoss;
    }

    /// <summary>
    /// The step's batch, zero grad, then forward, loss and backward (in one call, so that the network
    /// can fuse its output layer with the loss), and Adam: all queued, nothing read back.
    /// </summary>
    private void Train()
    {
        var (x, target) = _source.Batch();
        var y = _y.Slice(0, BatchRows * _source.Channels);
        var dy = _dy.Slice(0, BatchRows * _source.Channels);
        _backend.Fill(_gradients.All, T.Zero);
        _network.TrainMse(_gradients.All, _sums.All, y, dy, x, target, _parameters.All, BatchRows, _grid);
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
            _network.Forward(y, stored.Inputs.Slice(start * stored.Dims, rows * stored.Dims), _parameters.All, rows, rows == stored.Rows ? _grid : null);
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
    public T[] DownloadParameters(bool best = false) => Download(best ? _best : _parameters);

    private T[] Download(DeviceBuffer<T> buffer)
    {
        var values = new T[_network.Layout.Count];
        _backend.Download(values, buffer.All);
        return values;
    }

    private T[] DownloadUnpadded(DeviceBuffer<T> buffer) => _network.Layout.Transfer<T>(Download(buffer), _network.Layout.Unpadded());

    private (double Loss, double Psnr) ReadSums(int rows)
    {
        _backend.Download(_hostSums, _sums.All);
        double count = (double)rows * _source.Channels;
        return (double.CreateTruncating(_hostSums[0]) / count, Psnr.FromMse(double.CreateTruncating(_hostSums[1]) / count));
    }

    private void Consider(double psnr, int step, DeviceBuffer<T> parameters)
    {
        // Written so that a NaN is never the best.
        if (!(psnr > BestPsnr)) return;
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
        _lowestLoss?.Dispose();
        if (_ownsSource)
            _source.Dispose();
    }
}
