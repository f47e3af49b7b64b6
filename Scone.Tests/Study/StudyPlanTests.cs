using System.Globalization;
using NUnit.Framework;
using Scone.Cli.Study;
using Scone.Engine;
using Scone.Engine.Models;

namespace Scone.Tests.Study;

/// <summary>Study files, grids, sweeps, shards and presets, without running anything.</summary>
public class StudyPlanTests : TempFolderTest
{
    private static StudyPlan Tiny(params StudyModel[] models) =>
        new("tiny", "image", [StudyGrid.SiemensStar], [0, 1], models, new Dictionary<string, string> { ["steps"] = "5" });

    private static StudyModel Model(string name, params (string Key, string[] Values)[] settings) =>
        new(name, name, settings.ToDictionary(s => s.Key, s => (IReadOnlyList<string>)s.Values), []);

    [Test]
    public void AGridIsModelsTimesSweepsTimesSignalsTimesSeedsInAFixedOrder()
    {
        var plan = Tiny(Model("scone", ("hidden", ["8", "12"]), ("mask", ["sin2", "sigmoid"])), Model("siren"));
        var runs = StudyGrid.Expand(plan);
        Assert.That(runs, Has.Count.EqualTo((4 + 1) * 1 * 2));
        Assert.That(runs.Select(r => r.Index), Is.EqualTo(Enumerable.Range(0, runs.Count)));
        Assert.That(runs.Select(r => r.Model).Distinct(), Is.EqualTo(new[]
        {
            "scone_hidden=8_mask=sin2", "scone_hidden=8_mask=sigmoid", "scone_hidden=12_mask=sin2", "scone_hidden=12_mask=sigmoid", "siren",
        }));
        Assert.That(runs[0].Folder, Is.EqualTo(Path.Combine("runs", "scone_hidden=8_mask=sin2", "siemens-star", "0")));
        Assert.That(StudyGrid.Expand(plan).Select(r => r.Folder), Is.EqualTo(runs.Select(r => r.Folder)), "the same plan, the same order");
    }

    [Test]
    public void ARunIsAnOrdinaryFit()
    {
        var plan = Tiny(new StudyModel("fast", "scone", new Dictionary<string, IReadOnlyList<string>> { ["hidden"] = ["8"] }, ["3e-3"]));
        var args = StudyGrid.Expand(plan)[1].FitArguments(plan, "OUT", "cpu");
        Assert.That(args, Is.EqualTo(new[] { "fit", "image", "--model", "scone", "--seed", "1", "--device", "cpu", "--out", "OUT", "--hidden", "8", "--lr", "3e-3", "--steps", "5" }));
    }

    [Test]
    public void SignalsAreFilesFoldersAndPatterns()
    {
        foreach (string name in new[] { "b.png", "a.png", "c.txt" })
            File.WriteAllText(Path.Combine(Folder, name), "");
        var plan = new StudyPlan("s", "image", [Path.Combine(Folder, "*.png")], [0], [Model("scone")], new Dictionary<string, string>());
        Assert.That(StudyGrid.Expand(plan).Select(r => r.SignalName), Is.EqualTo(new[] { "a", "b" }));
        Assert.Throws<InputException>(() => StudyGrid.Expand(plan with { Signals = [Path.Combine(Folder, "missing.png")] }));
    }

    [TestCase("0/3", 0, 3)]
    [TestCase("2/3", 2, 3)]
    public void AShardFromTheFlag(string flag, int index, int count)
    {
        var shard = StudyShard.Resolve(flag, null, _ => null);
        Assert.That((shard.Index, shard.Count), Is.EqualTo((index, count)));
    }

    [Test]
    public void AShardFromASlurmArrayOrAKubernetesIndexedJob()
    {
        var slurm = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "5", ["SLURM_ARRAY_TASK_MIN"] = "4", ["SLURM_ARRAY_TASK_COUNT"] = "3" };
        Assert.That(StudyShard.Resolve(null, null, slurm.GetValueOrDefault), Is.EqualTo(new StudyShard(1, 3, "Slurm array task 5")));
        var kubernetes = new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "2" };
        Assert.That(StudyShard.Resolve(null, 4, kubernetes.GetValueOrDefault), Is.EqualTo(new StudyShard(2, 4, "Kubernetes completion index 2")));
        Assert.That(StudyShard.Resolve(null, null, _ => null), Is.EqualTo(StudyShard.Whole));
        Assert.That(StudyShard.Resolve("1/2", null, slurm.GetValueOrDefault).Index, Is.EqualTo(1), "the flag wins");
    }

    [Test]
    public void SomeTasksOfASlurmArraySubmittedAgainRunTheirOwnShards()
    {
        // sbatch --array=3,7 --shard-count 12: tasks 3 and 7 of the first submission's 12.
        var again = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "7", ["SLURM_ARRAY_TASK_MIN"] = "3", ["SLURM_ARRAY_TASK_COUNT"] = "2" };
        var shard = StudyShard.Resolve(null, 12, again.GetValueOrDefault);
        Assert.That((shard.Index, shard.Count), Is.EqualTo((7, 12)));
        // Without the count, a gap in the IDs is an error, never another task's shard.
        Assert.That(Assert.Throws<InputException>(() => StudyShard.Resolve(null, null, again.GetValueOrDefault))!.Message, Does.Contain("--shard-count"));
    }

    [TestCase("3/3")]
    [TestCase("x")]
    [TestCase("1/0")]
    public void ABadShardIsOneLine(string flag) =>
        Assert.That(Assert.Throws<InputException>(() => StudyShard.Resolve(flag, null, _ => null))!.Message, Does.StartWith("--shard"));

    [Test]
    public void ShardsSplitTheGridWithoutOverlap()
    {
        var runs = StudyGrid.Expand(Tiny(Model("scone", ("hidden", ["8", "12", "16"])), Model("siren")));
        var shards = Enumerable.Range(0, 3).Select(i => runs.Where(new StudyShard(i, 3, "test").Takes).Select(r => r.Index).ToList()).ToList();
        Assert.That(shards.SelectMany(s => s).Order(), Is.EqualTo(runs.Select(r => r.Index)));
        Assert.That(shards.Select(s => s.Count), Is.All.InRange(2, 3));
    }

    [Test]
    public void TomlAndJsonStudyFilesSayTheSame()
    {
        string toml = Path.Combine(Folder, "s.toml"), json = Path.Combine(Folder, "s.json");
        File.WriteAllText(toml, """
            name = "s"
            task = "image"
            signals = ["siemens-star"]
            seeds = [0, 2]
            [options]
            steps = 10
            scale = 0.25
            [[models]]
            name = "scone"
            settings = { hidden = [8, 12] }
            lr = ["1e-3"]
            """);
        File.WriteAllText(json, """
            {"name": "s", "task": "image", "signals": ["siemens-star"], "seeds": [0, 2], "options": {"steps": 10, "scale": 0.25},
             "models": [{"name": "scone", "settings": {"hidden": [8, 12]}, "lr": ["1e-3"]}]}
            """);
        Assert.That(StudyPlan.Load(toml).ToJson().ToJsonString(), Is.EqualTo(StudyPlan.Load(json).ToJson().ToJsonString()));
        var back = StudyPlan.FromJson(StudyPlan.Load(toml).ToJson(), "round trip");
        Assert.That(back.ToJson().ToJsonString(), Is.EqualTo(StudyPlan.Load(toml).ToJson().ToJsonString()));
    }

    [TestCase("""{"task": "audio", "signals": ["a"], "models": [{"name": "scone"}]}""", "study task 'audio'")]
    [TestCase("""{"signals": ["a"], "models": []}""", "no models")]
    [TestCase("""{"signals": ["a"], "models": [{"name": "scone"}], "options": {"out": "x"}}""", "'out' is set per run")]
    [TestCase("""{"signals": [, "models": []}""", "s.json")]
    public void ABadStudyFileIsOneLine(string text, string expected)
    {
        string path = Path.Combine(Folder, "s.json");
        File.WriteAllText(path, text);
        var error = Assert.Throws<InputException>(() => StudyPlan.Load(path))!;
        Assert.That(error.Message, Does.Contain(expected));
        Assert.That(error.Message, Does.Not.Contain("\n"));
    }

    /// <summary>
    /// Every preset builds; the reduced image presets stay in the paper's regime of about 5 signal
    /// values per trained parameter (the paper's is 5.9), which a quick fit cannot reach 60 dB in.
    /// </summary>
    [Test]
    public void ReducedImagePresetsKeepAboutFiveValuesPerParameter()
    {
        string data = Path.GetDirectoryName(Path.GetDirectoryName(TestData.SharedData("kodak/kodim19.png")))!;
        foreach (var preset in StudyPresets.All)
            foreach (bool reduced in new[] { false, true })
                Assert.That(StudyPresets.Get(preset.Name, data, reduced).Models, Is.Not.Empty, preset.Name);
        foreach (string name in new[] { "paper-image", "mask-ablation" })
        {
            var plan = StudyPresets.Get(name, data, reduced: true);
            double scale = double.Parse(plan.Options["scale"], CultureInfo.InvariantCulture);
            double values = 768 * scale * (512 * scale) * 3;
            foreach (var model in plan.Models)
            {
                var built = Model(model);
                Assert.That(values / built.ParameterCount, Is.InRange(3.0, 8.0), $"{name}: {model.Label} has {built.ParameterCount:N0} parameters for {values:N0} values");
            }
        }
    }

    private static Engine.Models.Model Model(StudyModel model) =>
        Engine.Models.Model.Create(model.Name, 2, 3, key => model.Settings.TryGetValue(key, out var values) ? values[0] : null, (64, 96));
}
