namespace Scone.Tests.Parity;

/// <summary>
/// One named tensor, Scone's against PyTorch's. The error is relative to the tensor's largest
/// |PyTorch value|, because entries near zero carry no information about precision.
/// </summary>
internal readonly record struct TensorComparison(string Name, double Error, int Index, double Expected, double Actual, double Scale)
{
    public static TensorComparison Of(string name, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        if (expected.Length != actual.Length)
            return new TensorComparison($"{name} ({expected.Length} values from PyTorch, {actual.Length} from Scone)", double.PositiveInfinity, -1, double.NaN, double.NaN, double.NaN);
        double scale = 0;
        foreach (double value in expected) scale = Math.Max(scale, Math.Abs(value));
        double worst = 0;
        int index = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            // NaN never compares larger: let it win outright.
            if (error > worst || double.IsNaN(error))
            {
                worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                index = i;
            }
        }
        double relative = scale > 0 ? worst / scale : worst;
        return new TensorComparison(name, relative, index, expected.IsEmpty ? 0 : expected[index], actual.IsEmpty ? 0 : actual[index], scale);
    }

    public override string ToString() =>
        $"{Name}: relative error {Error:E2} at index {Index} (PyTorch {Expected:R}, Scone {Actual:R}, scale {Scale:E3})";
}
