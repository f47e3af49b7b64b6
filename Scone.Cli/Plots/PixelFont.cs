using Scone.Engine.Signals;

namespace Scone.Cli.Plots;

/// <summary>
/// A 5 x 7 pixel font of lowercase letters, digits and a few signs, drawn at any whole scale: for
/// labels in Scone's own images, which must read the same on a machine without a single system
/// font (where the plots' text comes out blank).
/// </summary>
public static class PixelFont
{
    public const int GlyphWidth = 5, GlyphHeight = 7;

    /// <summary>Columns from one glyph's start to the next's, at scale 1.</summary>
    public const int Advance = GlyphWidth + 1;

    // Each glyph: seven rows of five pixels, top to bottom, '#' for ink.
    private static readonly Dictionary<char, string> Glyphs = new()
    {
        [' '] = "..... ..... ..... ..... ..... ..... .....",
        ['|'] = "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
        ['a'] = "..... ..... .###. ....# .#### #...# .####",
        ['b'] = "#.... #.... #.##. ##..# #...# #...# ####.",
        ['c'] = "..... ..... .###. #.... #.... #...# .###.",
        ['d'] = "....# ....# .##.# #..## #...# #...# .####",
        ['e'] = "..... ..... .###. #...# ##### #.... .###.",
        ['f'] = "..##. .#..# .#... ###.. .#... .#... .#...",
        ['g'] = "..... .#### #...# #...# .#### ....# .###.",
        ['h'] = "#.... #.... #.##. ##..# #...# #...# #...#",
        ['i'] = "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
        ['j'] = "...#. ..... ..##. ...#. ...#. #..#. .##..",
        ['k'] = "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
        ['l'] = ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
        ['m'] = "..... ..... ##.#. #.#.# #.#.# #...# #...#",
        ['n'] = "..... ..... #.##. ##..# #...# #...# #...#",
        ['o'] = "..... ..... .###. #...# #...# #...# .###.",
        ['p'] = "..... ..... ####. #...# ####. #.... #....",
        ['q'] = "..... ..... .##.# #..## .#### ....# ....#",
        ['r'] = "..... ..... #.##. ##..# #.... #.... #....",
        ['s'] = "..... ..... .###. #.... .###. ....# ####.",
        ['t'] = ".#... .#... ###.. .#... .#... .#..# ..##.",
        ['u'] = "..... ..... #...# #...# #...# #..## .##.#",
        ['v'] = "..... ..... #...# #...# #...# .#.#. ..#..",
        ['w'] = "..... ..... #...# #...# #.#.# #.#.# .#.#.",
        ['x'] = "..... ..... #...# .#.#. ..#.. .#.#. #...#",
        ['y'] = "..... ..... #...# #...# .#### ....# .###.",
        ['z'] = "..... ..... ##### ...#. ..#.. .#... #####",
        ['0'] = ".###. #...# #..## #.#.# ##..# #...# .###.",
        ['1'] = "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
        ['2'] = ".###. #...# ....# ...#. ..#.. .#... #####",
        ['3'] = "##### ...#. ..#.. ...#. ....# #...# .###.",
        ['4'] = "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
        ['5'] = "##### #.... ####. ....# ....# #...# .###.",
        ['6'] = "..##. .#... #.... ####. #...# #...# .###.",
        ['7'] = "##### ....# ...#. ..#.. .#... .#... .#...",
        ['8'] = ".###. #...# #...# .###. #...# #...# .###.",
        ['9'] = ".###. #...# #...# .#### ....# ...#. .##..",
    };

    /// <summary>The width in pixels of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public static int Width(string text, int scale) => text.Length == 0 ? 0 : scale * (Advance * text.Length - 1);

    /// <summary>
    /// Draws <paramref name="text"/> into an H x W x 3 pixel buffer with its top left corner at
    /// (<paramref name="left"/>, <paramref name="top"/>), each font pixel a scale x scale square of
    /// <paramref name="shade"/>; what falls outside the columns [left, right) or the buffer is clipped.
    /// </summary>
    /// <exception cref="ArgumentException">The text holds a character the font has no glyph for.</exception>
    public static void Draw(float[] pixels, int height, int width, string text, int left, int top, int right, int scale, float shade)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        for (int c = 0; c < text.Length; c++)
        {
            if (!Glyphs.TryGetValue(text[c], out var glyph))
                throw new ArgumentException($"the pixel font has no glyph for '{text[c]}'", nameof(text));
            for (int row = 0; row < GlyphHeight; row++)
                for (int col = 0; col < GlyphWidth; col++)
                {
                    if (glyph[row * (GlyphWidth + 1) + col] != '#') continue;
                    int x0 = left + scale * (c * Advance + col), y0 = top + scale * row;
                    for (int y = Math.Max(0, y0); y < Math.Min(height, y0 + scale); y++)
                        for (int x = Math.Max(0, x0); x < Math.Min(Math.Min(width, right), x0 + scale); x++)
                            for (int ch = 0; ch < RgbImage.Channels; ch++)
                                pixels[(y * width + x) * RgbImage.Channels + ch] = shade;
                }
        }
    }
}
