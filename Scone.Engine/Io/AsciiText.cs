using System.Globalization;
using System.Text;

namespace Scone.Engine.Io;

/// <summary>Number parsing and quoting for <see cref="AsciiFields"/>, independent of the culture.</summary>
internal static class AsciiText
{
    public static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    /// <summary>True when the line has no fields.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
            if (!IsSpace(b)) return false;
        return true;
    }

    /// <summary>A decimal or exponent number; "NaN" and "Infinity" parse too, so callers check finiteness.</summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> field, out float value) =>
        float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public static bool TryParseDouble(ReadOnlySpan<byte> field, out double value) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    public static bool TryParseLong(ReadOnlySpan<byte> field, out long value) =>
        long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// A field for an error message: quoted, cut to 24 characters, with anything unprintable as
    /// '?', so that a binary file read as text still gives a one-line message.
    /// </summary>
    public static string Quote(ReadOnlySpan<byte> field)
    {
        const int MaxShown = 24;
        var text = new StringBuilder(MaxShown + 5).Append('\'');
        foreach (byte b in field[..Math.Min(field.Length, MaxShown)])
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        if (field.Length > MaxShown) text.Append("...");
        return text.Append('\'').ToString();
    }
}
