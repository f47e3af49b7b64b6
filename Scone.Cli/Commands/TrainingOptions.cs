using System.CommandLine;
using Scone.Engine.Training;

namespace Scone.Cli.Commands;

/// <summary>The options of a training run shared by every fit command, with the task's defaults (spec §1, "Defaults per task").</summary>
public sealed class TrainingOptions(int defaultSteps, double defaultLr, int defaultBatch, string batchDescription, string defaultOut)
{
    public Option<int> Steps { get; } = new("--steps") { Description = "training steps", DefaultValueFactory = _ => defaultSteps };
    public Option<double> Lr { get; } = new("--lr") { Description = "initial learning rate, annealed to 1e-6", DefaultValueFactory = _ => defaultLr };
    public Option<int> Batch { get; } = new("--batch") { Description = batchDescription, DefaultValueFactory = _ => defaultBatch };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "seed of the initialisation and the batches", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
    public Option<bool> Tf32 { get; } = new("--tf32") { Description = TrainingOptions.Tf32Help };
    public Option<bool> FastMath { get; } = new("--fast-math") { Description = TrainingOptions.FastMathHelp };
    public Option<string> Activations { get; } = ActivationsOption.Create();
    public Option<string> PadWidths { get; } = PadWidthsOption.Create();
    public Option<string> Out { get; } = new("--out") { Description = "output folder, replaced whole when the run is written", DefaultValueFactory = _ => defaultOut };
    public Option<bool> Resume { get; } = new("--resume") { Description = "continue the run in --out that Ctrl-C stopped (give the same settings)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Steps, Lr, Batch, Seed, Device, Tf32, FastMath, Activations, PadWidths, Out, Resume })
            command.Add(option);
    }

    /// <summary>Everything a fit shares, for <see cref="Tasks.FitPipeline"/>.</summary>
    public Tasks.FitOptions Fit(ParseResult parse) =>
        new(Trainer(parse), parse.GetValue(Device)!, Math(parse, Tf32, FastMath, Activations), parse.GetValue(Out)!, parse.GetValue(Resume),
            PadWidthsOption.Parse(parse.GetValue(PadWidths)!));

    public const string Tf32Help = "CUDA: TF32 tensor cores for the GEMMs (cuBLAS, and on sm_80+ the collage forward and backward each as one tensor-core kernel)";
    public const string FastMathHelp = "CUDA: fused multiply-adds and a polynomial sine (within 3e-7) in the kernels, instead of the CPU-exact arithmetic";

    public static DeviceMath Math(ParseResult parse, Option<bool> tf32, Option<bool> fastMath, Option<string> activations) =>
        new(parse.GetValue(tf32), parse.GetValue(fastMath), ActivationsOption.Parse(parse.GetValue(activations)!));

    public TrainerOptions Trainer(ParseResult parse) =>
        new TrainerOptions(parse.GetValue(Steps), parse.GetValue(Lr), parse.GetValue(Batch), parse.GetValue(Seed)).Validate();
}
