using System.Text.Json.Nodes;
using Scone.Cli.Output;
using Scone.Engine.Backends;
using Scone.Engine.Models;
using Scone.Engine.Training;
using Spectre.Console;

namespace Scone.Cli.Tasks;

/// <summary>What a task leaves when it has scored its fit: the parameters to save, its metrics, the checkpoint's signal metadata, its table.</summary>
internal sealed record TaskOutcome(float[] Parameters, JsonObject Metrics, Dictionary<string, string> Signal, Table Table, string? Note = null);

/// <summary>
/// One kind of signal a fit learns (an image, a video, a shape's signed distance): what
/// <see cref="FitPipeline"/> asks of it, in the order it asks. The pipeline owns everything the
/// tasks share: the run folder, --resume, the device, the memory check, the network, the trainer,
/// the training with its progress, the summary, the curve, the checkpoint and the exit code.
/// </summary>
internal interface IFitTask : IDisposable
{
    /// <summary>"image", "video" or "sdf": metrics.json's task and the checkpoint's signal.</summary>
    string Name { get; }

    /// <summary>Checks the task's options and returns the model, loading what the model depends on (an image's grid, for RBM).</summary>
    Model Prepare();

    /// <summary>The input as --resume compares it ("siemens-star" or a full path).</summary>
    string Input { get; }

    /// <summary>Adds the task's own options a continued run must be given again.</summary>
    void AddResumeSettings(Dictionary<string, string> settings);

    /// <summary>Loads the signal, once the run folder is taken (the slow part comes after a busy --out is refused).</summary>
    void Load(FitRun run);

    /// <summary>The rows of a training step, which the network is allocated for.</summary>
    int Capacity { get; }

    /// <summary>The task's memory beside the training buffers, for this backend.</summary>
    MemoryBudget Budget(MemoryBudget training, Model model, IBackend<float> backend);

    /// <summary>The batches, bound to the backend and owned by the task; firstStep is where a continued run starts.</summary>
    IBatchSource<float> Batches(IBackend<float> backend, ulong seed, int steps, int firstStep);

    /// <summary>For the opening line: the signal ("kodim19.png, 768x512") and the steps ("2000 steps of 27,000 samples").</summary>
    (string Signal, string Steps) Describe(TrainerOptions training);

    /// <summary>After each step (evaluations during training); returns the seconds it took, which do not count as training.</summary>
    double AfterStep(IBackend<float> backend, Model model, Trainer<float> trainer);

    /// <summary>Scores the fitted network and writes the task's own files (curve.png among them) into the run.</summary>
    TaskOutcome Finish(IBackend<float> backend, Model model, Trainer<float> trainer, FitRun run, IReadOnlyList<StepResult> curve, double seconds);
}
