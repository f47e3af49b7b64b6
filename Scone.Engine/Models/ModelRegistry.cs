namespace Scone.Engine.Models;

/// <summary>Every model Scone can build, by name (case-insensitive): the one list to extend when adding a model.</summary>
public static class ModelRegistry
{
    public static IReadOnlyList<IModelDefinition> All { get; } =
    [
        new Scone.SconeModel(),
        new Siren.SirenModel(),
        new Ffn.FfnModel(),
        new Rbm.RbmModel(),
        new Mfn.MfnModel(),
        new Wire.WireModel(),
    ];

    public static string NameList => string.Join(", ", All.Select(m => m.Name));

    public static IModelDefinition? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The model of that name; a miss is an InputException listing the known names.</summary>
    public static IModelDefinition Get(string name) =>
        Find(name) ?? throw new InputException($"unknown model '{name}'; known: {NameList}");
}
