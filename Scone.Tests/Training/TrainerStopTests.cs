using NUnit.Framework;
using Scone.Engine;
using Scone.Engine.Backends.Cpu;
using Scone.Engine.Io;
using Scone.Engine.Models;
using Scone.Engine.Signals;
using Scone.Engine.Training;

using Scone.Tests.Models;

namespace Scone.Tests.Training;

/// <summary>How a run stops early (interrupted, diverged) and continues from its saved state, bit for bit.</summary>
public class TrainerStopTests : TempFolderTest
{
    private static readonly Model Small = TestModels.Image("scone", ("hidden", "16"));

    private sealed class Run : IDisposable
    {
        private readonly INetwork<float> _network;

        public Run(int steps, int batch = 0, double lr = 1e-3)
        {
            var data = ImageSignal.ToTrainingData<float>(SiemensStar.Create(16));
            var backend = new CpuBackend<float>();
            _network = Small.CreateNetwork(backend, batch == 0 ? data.Rows : batch);
            Trainer = new Trainer<float>(backend, _network, data, new TrainerOptions(steps, lr, batch, Seed: 5), Small.InitialParameters(5));
        }

        public Trainer<float> Trainer { get; }

        public List<StepResult> Steps(Func<bool>? interrupted = null)
        {
            var curve = new List<StepResult>();
            Trainer.Run(interrupted ?? (() => false), curve.Add);
            return curve;
        }

        public void Dispose()
        {
            Trainer.Dispose();
            _network.Dispose();
        }
    }

    [TestCase(0)]
    [TestCase(60)]
    public void AContinuedRunTakesTheStepsOfAnUninterruptedOneBitForBit(int batch)
    {
        using var whole = new Run(20, batch);
        var wholeCurve = whole.Steps();
        var wholeState = whole.Trainer.SaveState();

        using var first = new Run(20, batch);
        var firstCurve = first.Steps(() => first.Trainer.StepsTaken == 9);
        Assert.That(first.Trainer.Stopped, Is.EqualTo(new TrainingStop(StopReason.Interrupted, 9)));
        Assert.That(first.Trainer.Stopped!.ToString(), Is.EqualTo("interrupted at step 9"));
        // Through the file, as --resume reads it.
        string path = Path.Combine(Folder, TrainingStateFile.FileName);
        TrainingStateFile.Save(path, first.Trainer.SaveState(), new Dictionary<string, string> { ["setting --lr"] = "0.001" });
        var (saved, metadata) = TrainingStateFile.Load(path);
        Assert.That(metadata["setting --lr"], Is.EqualTo("0.001"));

        using var second = new Run(20, batch);
        second.Trainer.RestoreState(saved);
        var secondCurve = second.Steps();
        var secondState = second.Trainer.SaveState();

        Assert.That(firstCurve.Concat(secondCurve), Is.EqualTo(wholeCurve));
        Assert.That(secondState.Step, Is.EqualTo(20));
        Assert.That(secondState.Parameters, Is.EqualTo(wholeState.Parameters));
        Assert.That(secondState.M, Is.EqualTo(wholeState.M));
        Assert.That(secondState.V, Is.EqualTo(wholeState.V));
        Assert.That(secondState.Best, Is.EqualTo(wholeState.Best));
        Assert.That((secondState.BestPsnr, secondState.BestStep), Is.EqualTo((wholeState.BestPsnr, wholeState.BestStep)));
        Assert.That(secondState.LowestLossParameters, Is.EqualTo(wholeState.LowestLossParameters));
        Assert.That(second.Trainer.Stopped, Is.Null);
    }

    [TestCase(0)]
    [TestCase(60)]
    public void ALossThatIsNotFiniteStopsTheRunAndGoesBackToTheBestParameters(int batch)
    {
        using var run = new Run(50, batch, lr: 1e6);
        var curve = run.Steps();
        var stop = run.Trainer.Stopped;
        Assert.That(stop?.Reason, Is.EqualTo(StopReason.Diverged));
        Assert.That(curve, Has.Count.EqualTo(stop!.Step), "the run ends at the step whose loss was not finite");
        Assert.That(double.IsFinite(curve[^1].Loss), Is.False);
        Assert.That(curve.SkipLast(1).All(r => double.IsFinite(r.Loss)), Is.True);
        float[] parameters = run.Trainer.DownloadParameters();
        Assert.That(parameters.All(float.IsFinite), Is.True);
        if (batch == 0)
            Assert.That(parameters, Is.EqualTo(run.Trainer.DownloadParameters(best: true)), "full batch: the best PSNR's parameters");
        else
            Assert.That(run.Trainer.LowestLoss, Is.EqualTo(curve.SkipLast(1).Min(r => r.Loss)), "mini-batch: the lowest loss's parameters");
        Assert.That(double.IsFinite(run.Trainer.Evaluate()), Is.True, "the parameters gone back to render");
        Assert.Throws<InvalidOperationException>(() => run.Trainer.Step());
    }

    [Test]
    public void AStateOfAnotherNetworkIsRefused()
    {
        using var run = new Run(10);
        var state = run.Trainer.SaveState();
        Assert.Throws<InputException>(() => run.Trainer.RestoreState(state with { M = new float[3] }));
        Assert.Throws<InputException>(() => run.Trainer.RestoreState(state with { Step = 11 }));
        Assert.Throws<InputException>(() => run.Trainer.RestoreState(state with { LowestLossParameters = new float[state.Parameters.Length] }));
    }
}
