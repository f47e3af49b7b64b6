using System.CommandLine;
using System.Globalization;
using Scone.Cli.Study;
using Scone.Engine;
using Scone.Engine.Models;

namespace Scone.Cli.Commands;

/// <summary>
/// scone study run | report: a grid of fits (models x signals x seeds) from flags, a preset of the
/// paper's experiments or a study file, resumable and sharded (by flag, a Slurm job array or a
/// Kubernetes Indexed Job), and its report with the paper's tables and figures.
/// </summary>
public static class StudyCommand
{
    public static Command Create()
    {
        var study = new Command("study", "Run the paper's experiments, or any grid of fits, and report them.");
        study.Add(RunCommand());
        study.Add(ReportCommand());
        return study;
    }

    private static Command RunCommand()
    {
        var preset = new Option<string?>("--preset") { Description = "a preset: " + string.Join("; ", StudyPresets.All.Select(p => $"{p.Name} ({p.Help})")) };
        var reduced = new Option<bool>("--reduced") { Description = "with --preset: the reduced version a 2-core CPU runs in minutes" };
        var data = new Option<string>("--data") { Description = "with --preset: the folder holding kodak/, video/ and shapes/", DefaultValueFactory = _ => Path.Combine("..", "shared", "data") };
        var file = new Option<string?>("--file") { Description = "a study file (.toml or .json): task, signals, seeds, options, models with settings (lists sweep)" };
        var task = new Option<string>("--task") { Description = "image, video or sdf", DefaultValueFactory = _ => "image" };
        var signals = new Option<string[]>("--signals") { Description = "files, folders or patterns (DIR/*.png), comma-separated; siemens-star is the embedded image", AllowMultipleArgumentsPerToken = true };
        var models = new Option<string?>("--models") { Description = $"models at their defaults, comma-separated: {ModelRegistry.NameList}" };
        var seeds = new Option<string>("--seeds") { Description = "seeds, comma-separated", DefaultValueFactory = _ => "0" };
        var steps = new Option<int?>("--steps") { Description = "training steps of every run" };
        var lr = new Option<double?>("--lr") { Description = "learning rate of every run" };
        var scale = new Option<double?>("--scale") { Description = "resize every signal by this factor (image and video)" };
        var hidden = new Option<int?>("--hidden") { Description = "hidden width of every model" };
        var output = new Option<string?>("--out") { Description = "the study folder [default: runs/study-NAME]" };
        var shard = new Option<string?>("--shard") { Description = "run only shard I of N (I/N, from 0) [default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, else all]" };
        var shardCount = new Option<int?>("--shard-count") { Description = "the number of shards, for a Kubernetes Indexed Job (its completions), or for a Slurm array whose task IDs are the shards (to submit some tasks again: --array=3,7 --shard-count 12)" };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var devices = new Option<string?>("--devices") { Description = "one worker per GPU on this machine, e.g. 0,1,2,3 (each takes a shard)" };
        var command = new Command("run", "Run a study into its folder; runs already finished are skipped, interrupted ones continued.")
        {
            preset, reduced, data, file, task, signals, models, seeds, steps, lr, scale, hidden, output, shard, shardCount, device, devices,
        };
        command.SetAction(parse =>
        {
            var plan = Plan(parse.GetValue(preset), parse.GetValue(reduced), parse.GetValue(data)!, parse.GetValue(file), parse.GetValue(task)!,
                parse.GetValue(signals) ?? [], parse.GetValue(models), parse.GetValue(seeds)!, parse.GetValue(steps), parse.GetValue(lr), parse.GetValue(scale), parse.GetValue(hidden));
            string folder = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine("runs", "study-" + plan.Name));
            var slice = StudyShard.Resolve(parse.GetValue(shard), parse.GetValue(shardCount), Environment.GetEnvironmentVariable);
            // The workers split the whole study between them: inside a shard they would run other shards' runs.
            if (parse.GetValue(devices) is not null && slice != StudyShard.Whole)
                throw new InputException($"--devices runs the whole study on this machine, one worker per GPU; it does not combine with {slice.Source} (give each task one GPU instead)");
            StudyRunner.Record(plan, folder);
            int code;
            if (parse.GetValue(devices) is { } list)
                code = StudyRunner.RunOnDevices(Path.Combine(folder, StudyRunner.PlanFile), folder, list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), Console.Out);
            else
                code = StudyRunner.Run(plan, folder, slice, parse.GetValue(device)!, Console.Out);
            if (code == CommandLine.Ok)
                Console.WriteLine($"wrote {StudyReport.Write(folder)}");
            return code;
        });
        return command;
    }

    private static Command ReportCommand()
    {
        var folder = new Argument<string>("DIR") { Description = "a study folder (it holds study.json)" };
        var command = new Command("report", "Gather a study's runs into results.csv, results.json and report.md with the paper's tables and figures.") { folder };
        command.SetAction(parse =>
        {
            Console.WriteLine($"wrote {StudyReport.Write(Path.GetFullPath(parse.GetValue(folder)!))}");
            return CommandLine.Ok;
        });
        return command;
    }

    private static StudyPlan Plan(string? preset, bool reduced, string data, string? file, string task, string[] signals, string? models, string seeds,
        int? steps, double? lr, double? scale, int? hidden)
    {
        if (new[] { preset is not null, file is not null, models is not null }.Count(b => b) != 1)
            throw new InputException("a study needs exactly one of --preset, --file or --models");
        if (reduced && preset is null) throw new InputException("--reduced goes with --preset");
        if (preset is not null) return StudyPresets.Get(preset, data, reduced);
        if (file is not null) return StudyPlan.Load(file);
        var options = new Dictionary<string, string>();
        if (steps is int s) options["steps"] = s.ToString(CultureInfo.InvariantCulture);
        if (lr is double l) options["lr"] = l.ToString("R", CultureInfo.InvariantCulture);
        if (scale is double c) options["scale"] = c.ToString("R", CultureInfo.InvariantCulture);
        var settings = hidden is int h ? new Dictionary<string, IReadOnlyList<string>> { ["hidden"] = [h.ToString(CultureInfo.InvariantCulture)] } : [];
        var seedList = seeds.Split(',', StringSplitOptions.TrimEntries).Select(text => ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            ? seed : throw new InputException($"--seeds {seeds}: '{text}' is not a non-negative integer")).ToList();
        var modelList = models!.Split(',', StringSplitOptions.TrimEntries).Select(name => new StudyModel(ModelRegistry.Get(name).Name, ModelRegistry.Get(name).Name, settings, [])).ToList();
        return new StudyPlan("study", task, signals.SelectMany(s => s.Split(',', StringSplitOptions.TrimEntries)).ToList(), seedList, modelList, options).Validate();
    }
}
