using System.Globalization;
using Scone.Engine;

namespace Scone.Cli.Study;

/// <summary>
/// Which slice of a study's runs this process does: run i belongs to shard i mod Count, so shards
/// are deterministic, disjoint and cover the grid. From --shard I/N, else from a Slurm job array
/// (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT; with --shard-count N,
/// SLURM_ARRAY_TASK_ID of N) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with the count
/// from --shard-count), else the whole study.
/// </summary>
public sealed record StudyShard(int Index, int Count, string Source)
{
    public static readonly StudyShard Whole = new(0, 1, "the whole study");

    public bool Takes(StudyRun run) => run.Index % Count == Index;

    public static StudyShard Resolve(string? flag, int? count, Func<string, string?> environment)
    {
        if (flag is not null) return Parse(flag);
        if (environment("SLURM_ARRAY_TASK_ID") is { } id)
        {
            int task = Int(id, "SLURM_ARRAY_TASK_ID");
            // With a count the task IDs are the shards themselves, so that some tasks of an array can
            // be submitted again (--array=3,7 --shard-count 12) and still run shards 3 and 7.
            if (count is int shards) return Check(task, shards, $"Slurm array task {task} of --shard-count {shards}");
            int min = environment("SLURM_ARRAY_TASK_MIN") is { } m ? Int(m, "SLURM_ARRAY_TASK_MIN") : 0;
            int tasks = environment("SLURM_ARRAY_TASK_COUNT") is { } c ? Int(c, "SLURM_ARRAY_TASK_COUNT")
                : throw new InputException("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give --shard-count");
            return task - min < tasks ? Check(task - min, tasks, $"Slurm array task {task}")
                : throw new InputException($"Slurm array task {task}: the array's {tasks} tasks are not consecutive from {min}; give --shard-count N with tasks numbered 0 to N - 1");
        }
        if (environment("JOB_COMPLETION_INDEX") is { } index)
            return Check(Int(index, "JOB_COMPLETION_INDEX"), count ?? throw new InputException("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give --shard-count, the Job's completions"),
                $"Kubernetes completion index {index}");
        if (count is not null) throw new InputException("--shard-count needs a shard index: --shard I/N, a Slurm array or a Kubernetes Indexed Job");
        return Whole;
    }

    private static StudyShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            return Check(index, count, $"--shard {text}");
        throw new InputException($"--shard {text}: expected I/N, e.g. 0/4 (shards are numbered from 0)");
    }

    private static StudyShard Check(int index, int count, string source) =>
        count < 1 || index < 0 || index >= count
            ? throw new InputException($"{source}: shard {index} of {count} is out of range (0 to count - 1)")
            : new StudyShard(index, count, source);

    private static int Int(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : throw new InputException($"{name}={text} is not a non-negative integer");
}
