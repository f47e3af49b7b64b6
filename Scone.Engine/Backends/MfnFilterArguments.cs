namespace Scone.Engine.Backends;

/// <summary>
/// The shape checks of <see cref="IBackend{T}.MfnFilterForward"/> and <see cref="IBackend{T}.MfnFilterBackward"/>,
/// once for every backend: sizes, and which optional tensors come together.
/// </summary>
public static class MfnFilterArguments
{
    public static void CheckForward<T>(Slice<T> h, Slice<T>? u, Slice<T> x, Slice<T>? bias, Slice<T> filterWeight, Slice<T> filterBias,
        Slice<T>? mu, Slice<T>? gamma, int rows, int width, int dims) where T : unmanaged
    {
        CheckSizes(rows, width, dims);
        h.Require((long)rows * width, nameof(h));
        CheckLinear(u, bias, width);
        CheckFilter(u, x, filterWeight, filterBias, mu, gamma, rows, width, dims);
    }

    public static void CheckBackward<T>(Slice<T>? du, Slice<T>? dBias, Slice<T> dFilterWeight, Slice<T> dFilterBias, Slice<T>? dMu, Slice<T>? dGamma,
        Slice<T> dh, Slice<T>? u, Slice<T>? bias, Slice<T> x, Slice<T> filterWeight, Slice<T> filterBias, Slice<T>? mu, Slice<T>? gamma,
        int rows, int width, int dims) where T : unmanaged
    {
        CheckSizes(rows, width, dims);
        dh.Require((long)rows * width, nameof(dh));
        CheckLinear(u, bias, width);
        CheckFilter(u, x, filterWeight, filterBias, mu, gamma, rows, width, dims);
        if ((du is null) != (u is null) || (dBias is null) != (u is null))
            throw new ArgumentException("du and dl are given exactly when u is (a filter after the first)", nameof(du));
        if ((dMu is null) != (mu is null) || (dGamma is null) != (mu is null))
            throw new ArgumentException("dmu and dgamma are given exactly when mu and gamma are (the Gabor filter)", nameof(dMu));
        du?.Require((long)rows * width, nameof(du));
        dBias?.Require(width, nameof(dBias));
        dFilterWeight.Require((long)width * dims, nameof(dFilterWeight));
        dFilterBias.Require(width, nameof(dFilterBias));
        dMu?.Require((long)width * dims, nameof(dMu));
        dGamma?.Require(width, nameof(dGamma));
    }

    private static void CheckLinear<T>(Slice<T>? u, Slice<T>? bias, int width) where T : unmanaged
    {
        if ((u is null) != (bias is null))
            throw new ArgumentException("u and l come together: both for a filter after the first, neither for the first", nameof(u));
        bias?.Require(width, nameof(bias));
    }

    private static void CheckSizes(int rows, int width, int dims)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (dims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(dims), $"the MFN filter takes 1 to 3 input dimensions, not {dims}");
    }

    private static void CheckFilter<T>(Slice<T>? u, Slice<T> x, Slice<T> filterWeight, Slice<T> filterBias,
        Slice<T>? mu, Slice<T>? gamma, int rows, int width, int dims) where T : unmanaged
    {
        if ((mu is null) != (gamma is null))
            throw new ArgumentException("mu and gamma come together: both for the Gabor filter, neither for the Fourier one", nameof(mu));
        u?.Require((long)rows * width, nameof(u));
        x.Require((long)rows * dims, nameof(x));
        filterWeight.Require((long)width * dims, nameof(filterWeight));
        filterBias.Require(width, nameof(filterBias));
        mu?.Require((long)width * dims, nameof(mu));
        gamma?.Require(width, nameof(gamma));
    }
}
