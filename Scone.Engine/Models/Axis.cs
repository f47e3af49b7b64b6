namespace Scone.Engine.Models;

/// <summary>
/// One axis of a parameter tensor's shape as a model declares it: its size in the authors' model,
/// and whether it is a hidden width, which a padded layout rounds up to its alignment (the padding
/// zero and never trained). An int converts to an axis that is never padded.
/// </summary>
public readonly record struct Axis(int Size, bool HiddenWidth)
{
    /// <summary>A hidden width: padded where the layout pads.</summary>
    public static Axis Hidden(int size) => new(size, true);

    public static implicit operator Axis(int size) => new(size, false);

    /// <summary>The size in a layout that pads hidden widths to multiples of <paramref name="alignment"/>.</summary>
    public int Stored(int alignment) => HiddenWidth ? checked((Size + alignment - 1) / alignment * alignment) : Size;
}
