using System.Numerics;
using Scone.Engine.Backends;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Training;

namespace Scone.Tests.Parity;

/// <summary>What Scone computes for a parity case, in float64 whatever precision it ran in.</summary>
/// <param name="Y">The output [rows, outputs] of the initial network.</param>
/// <param name="Loss">Its MSE loss.</param>
/// <param name="Gradients">The parameter gradients of that loss, in the layout.</param>
/// <param name="Losses">The loss of each training step, measured before the step's update.</param>
/// <param name="Final">The parameters after the training steps.</param>
internal sealed record SconeResults(double[] Y, double Loss, double[] Gradients, double[] Losses, double[] Final);

/// <summary>
/// The Scone side of a parity case on the CPU backend: one forward and backward of the network
/// itself, then the Trainer for the training steps, full batch, with the cosine schedule over
/// exactly those steps (the run PyTorch's CosineAnnealingLR is given).
/// </summary>
internal static class SconeRun
{
    public static SconeResults Compute<T>(ParityCase c, double[] x, double[] target, double[] parameters, int steps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = c.BatchRows;
        var backend = new CpuBackend<T>();
        using var network = ParityModels.Create(backend, c);
        using var xs = backend.Allocate<T>(x.Length);
        using var targets = backend.Allocate<T>(target.Length);
        using var p = backend.Allocate<T>(parameters.Length);
        using var y = backend.Allocate<T>(rows * c.Outputs);
        using var dy = backend.Allocate<T>(rows * c.Outputs);
        using var sums = backend.Allocate<T>(2);
        using var gradients = backend.Allocate<T>(parameters.Length);
        backend.Upload(xs.All, Convert<T>(x));
        backend.Upload(targets.All, Convert<T>(target));
        backend.Upload(p.All, Convert<T>(parameters));

        network.Forward(y.All, xs.All, p.All, rows);
        backend.MseLoss(dy.All, sums.All, y.All, targets.All, rows, c.Outputs);
        backend.Fill(gradients.All, T.Zero);
        network.Backward(gradients.All, dy.All, xs.All, p.All, rows);
        double loss = Download(backend, sums)[0] / (rows * c.Outputs);
        double[] output = Download(backend, y), gradient = Download(backend, gradients);

        var data = new TrainingData<T>(Convert<T>(x), Convert<T>(target), rows, c.Dims, c.Outputs);
        using var trainer = new Trainer<T>(backend, network, data, new TrainerOptions(steps, c.LearningRate), parameters);
        double[] losses = Enumerable.Range(0, steps).Select(_ => trainer.Step().Loss).ToArray();
        return new SconeResults(output, loss, gradient, losses, Array.ConvertAll(trainer.DownloadParameters(), double.CreateTruncating));
    }

    private static T[] Convert<T>(double[] values) where T : unmanaged, IFloatingPointIeee754<T> => Array.ConvertAll(values, T.CreateTruncating);

    private static double[] Download<T>(CpuBackend<T> backend, DeviceBuffer<T> buffer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[buffer.Length];
        backend.Download(values, buffer.All);
        return Array.ConvertAll(values, double.CreateTruncating);
    }
}
