namespace Scone.Engine.Backends;

/// <summary>Sizes the backends' workspaces are made for.</summary>
public static class BackendLimits
{
    /// <summary>The widest layer a primitive takes (a reduction's partial sums are sized for it).</summary>
    public const int MaxWidth = 4096;
}
