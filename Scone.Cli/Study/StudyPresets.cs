using System.Globalization;
using Scone.Engine;

namespace Scone.Cli.Study;

/// <summary>
/// The paper's experiments as studies. Full presets are the paper's protocol (GPU work); reduced
/// ones shrink the signal and the widths together so that a 2-core CPU runs them in minutes while
/// staying in the paper's regime of about 5 signal values per trained parameter (the paper: 768 x
/// 512 x 3 values for about 200K parameters, 5.9): a 1/8-size Kodak image (96 x 64 x 3 = 18,432
/// values) with width-32 networks (3,700 parameters) is 4.9.
/// </summary>
public static class StudyPresets
{
    public sealed record Preset(string Name, string Help, Func<string, bool, StudyPlan> Build);

    public static IReadOnlyList<Preset> All { get; } =
    [
        new("paper-image", "five models on the 24 Kodak images, ~200K parameters, 10,000 steps (Fig. 3-4); reduced: 4 images at 1/8 size, width 32, 1,000 steps", PaperImage),
        new("paper-video", "five models on the cat video, 10,000 steps of 262,144 points (Table 1); reduced: 16 frames at 1/4 size, width 64, 300 steps of 16,384", PaperVideo),
        new("paper-shapes", "SCONE and the baselines on the four Stanford shapes, 10,000 steps, 512^3 evaluation (Fig. 5); reduced: width 64, 300 steps, 64^3", PaperShapes),
        new("layer-study", "SCONE, WIRE, MFN and SIREN with 4 hidden layers of 64 on the Siemens star, 10,000 steps (Fig. 6); reduced: 128 x 128, 1,500 steps", LayerStudy),
        new("mask-ablation", "SCONE with every mask activation, the -L variants, random binary masks and SIREN on Kodak (Fig. 7); reduced as paper-image", MaskAblation),
    ];

    public static string NameList => string.Join(", ", All.Select(p => p.Name));

    /// <summary>The preset's plan; data is the folder holding kodak/, video/ and shapes/ (../shared/data in a checkout).</summary>
    public static StudyPlan Get(string name, string data, bool reduced) =>
        (All.FirstOrDefault(p => p.Name == name) ?? throw new InputException($"unknown study preset '{name}'; known: {NameList}")).Build(data, reduced);

    /// <summary>The paper's image models at their defaults, or at width 32 (FFN with 16 frequencies, so its first layer is as wide as the rest).</summary>
    private static List<StudyModel> ImageModels(bool reduced, int width = 32) =>
    [
        Model("scone", reduced, width),
        Model("siren", reduced, width),
        Model("ffn", reduced, width, reduced ? [("features", (width / 2).ToString(CultureInfo.InvariantCulture))] : []),
        Model("mfn", reduced, width),
        Model("wire", reduced, width),
    ];

    private static StudyModel Model(string name, bool reduced, int width, (string Key, string Value)[]? extra = null, string? label = null)
    {
        var settings = new Dictionary<string, IReadOnlyList<string>>();
        if (reduced) settings["hidden"] = [width.ToString(CultureInfo.InvariantCulture)];
        foreach (var (key, value) in extra ?? [])
            settings[key] = [value];
        return new StudyModel(label ?? name, name, settings, []);
    }

    private static StudyPlan Plan(string name, string task, IReadOnlyList<string> signals, List<StudyModel> models, bool reduced,
        Dictionary<string, string> options, string description) =>
        new StudyPlan(reduced ? name + "-reduced" : name, task, signals, [0UL], models, options, description).Validate();

    private static string[] Kodak(string data, bool reduced) =>
        reduced ? ReducedKodak.Select(k => Path.Combine(data, "kodak", k + ".png")).ToArray() : [Path.Combine(data, "kodak", "*.png")];

    /// <summary>Four Kodak images of different difficulty: the caps, the motorbikes, the lighthouse, the macaws.</summary>
    private static readonly string[] ReducedKodak = ["kodim03", "kodim05", "kodim19", "kodim23"];

    private static StudyPlan PaperImage(string data, bool reduced) => Plan("paper-image", "image", Kodak(data, reduced), ImageModels(reduced), reduced,
        reduced ? new() { ["scale"] = "0.125", ["steps"] = "1000", ["lr"] = "2e-3" } : new() { ["steps"] = "10000" },
        "The paper's Kodak comparison (Fig. 3-4): every pixel every step, the best PSNR over the run.");

    private static StudyPlan MaskAblation(string data, bool reduced)
    {
        int width = reduced ? 32 : 250;
        var models = new[] { "sin2", "sigmoid", "gauss", "nsin", "ncos", "ntanh", "sigmoid-l", "ntanh-l" }
            .Select(mask => Model("scone", reduced, width, [("mask", mask)], "scone-" + mask)).ToList();
        models.Add(Model("rbm", reduced, width));
        models.Add(Model("siren", reduced, width));
        return Plan("mask-ablation", "image", Kodak(data, reduced), models, reduced,
            reduced ? new() { ["scale"] = "0.125", ["steps"] = "1000", ["lr"] = "2e-3" } : new() { ["steps"] = "10000" },
            "The paper's mask ablation (Fig. 7): every mask activation, learnable scales (-L), random binary masks, SIREN.");
    }

    private static StudyPlan PaperVideo(string data, bool reduced) => Plan("paper-video", "video", [Path.Combine(data, "video", "cat")], ImageModels(reduced, 64), reduced,
        reduced ? new() { ["scale"] = "0.25", ["max-frames"] = "16", ["steps"] = "300", ["batch"] = "16384", ["lr"] = "1e-3" } : new() { ["steps"] = "10000" },
        "The paper's video comparison (Table 1): 262,144 random points a step; PSNR and SSIM over every frame.");

    private static StudyPlan PaperShapes(string data, bool reduced)
    {
        string[] shapes = ["armadillo/armadillo.obj", "bunny/bunny.xyz", "dragon/dragon_vrip_res3.ply", "lucy/lucy.obj"];
        var models = new List<StudyModel> { Model("scone", reduced, 64), Model("siren", reduced, 64), Model("ffn", reduced, 64, reduced ? [("features", "32")] : []), Model("wire", reduced, 64) };
        return Plan("paper-shapes", "sdf", shapes.Select(s => Path.Combine(data, "shapes", s)).ToArray(), models, reduced,
            reduced ? new() { ["steps"] = "300", ["grid"] = "64", ["surface-points"] = "200000", ["lr"] = "1e-3" } : new() { ["steps"] = "10000" },
            "The paper's 3D shapes (Fig. 5): signed distances from oriented point clouds; IoU and Chamfer distance.");
    }

    private static StudyPlan LayerStudy(string data, bool reduced)
    {
        var models = new[] { "scone", "wire", "mfn", "siren" }
            .Select(name => new StudyModel(name, name, new Dictionary<string, IReadOnlyList<string>>
            {
                ["hidden"] = ["64"],
                // Four hidden layers of 64: for MFN that is its n_layers = 3 (four filters).
                ["layers"] = [name == "mfn" ? "3" : "5"],
            }, [])).ToList();
        return Plan("layer-study", "image", [StudyGrid.SiemensStar], models, reduced,
            reduced ? new() { ["scale"] = "0.5", ["steps"] = "1500", ["lr"] = "1e-3" } : new() { ["steps"] = "10000" },
            "The paper's layer study (Fig. 6): 4 hidden layers of 64 on the 256 x 256 Siemens star; scone inspect draws the layer pictures.");
    }
}
