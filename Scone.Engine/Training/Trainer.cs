using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Metrics;
using Scone.Engine.Models;

namespace Scone.Engine.Training;

/// <summary>
/// The autograd-free training loop: sample, forward, loss, zero grad, backward, Adam with the
/// cosine rate. Parameters, gradients and both Adam moments are flat buffers with the network's
/// layout. The trainer also keeps a copy of the parameters that gave the best PSNR seen so far,
/// since the paper reports the best PSNR of a run.
/// </summary>
public sealed class Trainer<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IBackend<T> _backend;
    private readonly INetwork<T> _network;
    private readonly TrainingData<T> _data;
    private readonly TrainerOptions _options;
    private readonly DeviceBuffer<T> _parameters, _gradients, _m, _v, _best, _stepStart;
    private readonly DeviceBuffer<T> _inputs, _targets, _y, _dy, _sums;
    private readonly DeviceBuffer<T>? _batchInputs, _batchTargets;
    private readonly DeviceBuffer<int>? _indices;
    private readonly int[] _hostIndices;
    private readonly T[] _hostSums = new T[2];
    private readonly Rng _sampler;

    /// <param name="network">Allocated for at least the batch size (every sample when BatchSize is 0).</param>
    public Trainer(IBackend<T> backend, INetwork<T> network, TrainingData<T> data, TrainerOptions options, ReadOnlySpan<double> initialParameters)
    {
        _backend = backend;
        _network = network;
        _data = data;
        _options = options.Validate();
        if (data.Dims != network.Config.InputDims || data.Channels != network.Config.OutputDims)
            throw new ArgumentException($"a {data.Dims}-to-{data.Channels} signal for a {network.Config.InputDims}-to-{network.Config.OutputDims} network");
        BatchRows = options.BatchSize == 0 ? data.Rows : options.BatchSize;
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

        _inputs = backend.Allocate<T>(data.Inputs.Length);
        _targets = backend.Allocate<T>(data.Targets.Length);
        backend.Upload(_inputs.All, data.Inputs);
        backend.Upload(_targets.All, data.Targets);
        int evalRows = Math.Min(network.Capacity, data.Rows);
        _y = backend.Allocate<T>(Math.Max(BatchRows, evalRows) * data.Channels);
        _dy = backend.Allocate<T>(Math.Max(BatchRows, evalRows) * data.Channels);
        _sums = backend.Allocate<T>(2);

        _hostIndices = options.BatchSize == 0 ? [] : new int[BatchRows];
        if (options.BatchSize > 0)
        {
            _batchInputs = backend.Allocate<T>(BatchRows * data.Dims);
            _batchTargets = backend.Allocate<T>(BatchRows * data.Channels);
            _indices = backend.Allocate<int>(BatchRows);
        }
        _sampler = new Rng(options.Seed ^ 0x5A4D_504C_4552UL);
    }

    public int BatchRows { get; }

    /// <summary>The number of steps taken so far: the index of the next step.</summary>
    public int StepsTaken { get; private set; }

    public double BestPsnr { get; private set; } = double.NegativeInfinity;

    /// <summary>The step whose parameters gave <see cref="BestPsnr"/>; Steps for the final network.</summary>
    public int BestStep { get; private set; } = -1;

    public bool FullBatch => _options.BatchSize == 0;

    /// <summary>
    /// One step. Its loss and PSNR are measured before its update; they are read back once, after
    /// the update, so that nothing waits on the device inside the step. For the best-PSNR copy the
    /// parameters the step started from are kept on the device.
    /// </summary>
    public StepResult Step()
    {
        int step = StepsTaken;
        var (x, target) = NextBatch();
        var y = _y.Slice(0, BatchRows * _data.Channels);
        var dy = _dy.Slice(0, BatchRows * _data.Channels);
        if (FullBatch)
            _backend.Copy(_stepStart.All, _parameters.All);

        _network.Forward(y, x, _parameters.All, BatchRows);
        _backend.MseLoss(dy, _sums.All, y, target, BatchRows, _data.Channels);
        _backend.Fill(_gradients.All, T.Zero);
        _network.Backward(_gradients.All, dy, x, _parameters.All, BatchRows);
        double rate = CosineSchedule.LearningRate(step, _options.Steps, _options.LearningRate, _options.FinalLearningRate);
        _backend.AdamStep(_parameters.All, _m.All, _v.All, _gradients.All, new AdamArguments(rate, step + 1));

        var (loss, psnr) = ReadSums(BatchRows);
        if (FullBatch)
            Consider(psnr, step, _stepStart);
        StepsTaken++;
        return new StepResult(step, loss, psnr, rate);
    }

    /// <summary>
    /// The PSNR of the current parameters over every sample; counts towards the best (a run's
    /// final network is evaluated this way, and mini-batch runs are only ever judged this way).
    /// </summary>
    public double Evaluate()
    {
        double clipped = 0;
        for (int start = 0; start < _data.Rows; start += _network.Capacity)
        {
            int rows = Math.Min(_network.Capacity, _data.Rows - start);
            var y = _y.Slice(0, rows * _data.Channels);
            _network.Forward(y, _inputs.Slice(start * _data.Dims, rows * _data.Dims), _parameters.All, rows);
            _backend.MseLoss(_dy.Slice(0, rows * _data.Channels), _sums.All, y, _targets.Slice(start * _data.Channels, rows * _data.Channels), rows, _data.Channels);
            _backend.Download(_hostSums, _sums.All);
            clipped += double.CreateTruncating(_hostSums[1]);
        }
        double psnr = Psnr.FromMse(clipped / ((double)_data.Rows * _data.Channels));
        Consider(psnr, StepsTaken, _parameters);
        return psnr;
    }

    /// <summary>The current or best parameters, on the host.</summary>
    public T[] DownloadParameters(bool best = false)
    {
        var values = new T[_network.Layout.Count];
        _backend.Download(values, best ? _best.All : _parameters.All);
        return values;
    }

    private (Slice<T> X, Slice<T> Target) NextBatch()
    {
        if (FullBatch)
            return (_inputs.All, _targets.All);
        for (int i = 0; i < _hostIndices.Length; i++)
            _hostIndices[i] = _sampler.NextInt(_data.Rows);
        _backend.Upload(_indices!.All, _hostIndices);
        _backend.GatherRows(_batchInputs!.All, _inputs.All, _indices.All, BatchRows, _data.Dims);
        _backend.GatherRows(_batchTargets!.All, _targets.All, _indices.All, BatchRows, _data.Channels);
        return (_batchInputs.All, _batchTargets.All);
    }

    private (double Loss, double Psnr) ReadSums(int rows)
    {
        _backend.Download(_hostSums, _sums.All);
        double count = (double)rows * _data.Channels;
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
        foreach (var buffer in new DeviceBuffer<T>?[] { _parameters, _gradients, _m, _v, _best, _stepStart, _inputs, _targets, _y, _dy, _sums, _batchInputs, _batchTargets })
            buffer?.Dispose();
        _indices?.Dispose();
    }
}
