using System.Buffers.Binary;
using System.Text;

namespace Scone.Kernels;

/// <summary>
/// What a kernel of a CUBIN needs of a multiprocessor, as the image records it: registers per
/// thread, the per-thread stack frame in local memory (spilled registers and local arrays alike),
/// the deepest call stack, the static shared memory per block as the image counts it (sm_90
/// images of NVRTC 11.8 add a 1 KB window before the kernel's own arrays), and the block size
/// __launch_bounds__ allows (null without one).
/// </summary>
public sealed record KernelResources(string Name, int Registers, int FrameBytes, int MaxStackBytes, int SharedBytes, int? MaxThreads);

/// <summary>
/// Reads <see cref="KernelResources"/> from a CUBIN, an ELF64 image for EM_CUDA, without any
/// CUDA library. A kernel is a function symbol marked STO_CUDA_ENTRY. The module's .nv.info
/// section holds, per function symbol, records of EIATTR_REGCOUNT, EIATTR_FRAME_SIZE and
/// EIATTR_MAX_STACK_SIZE; the kernel's own .nv.info.&lt;name&gt; holds EIATTR_MAX_THREADS when it
/// has launch bounds; .nv.shared.&lt;name&gt; is as large as its static shared memory. Older images
/// keep the register count only in the top byte of the .text.&lt;name&gt; header's sh_info (sm_90
/// images of NVRTC 11.8 leave that byte zero), the fallback when EIATTR_REGCOUNT is absent.
/// </summary>
public static class CubinResources
{
    private const ushort MachineCuda = 190;
    private const uint SectionSymbolTable = 2, SectionNoBits = 8;
    private const int SymbolFunction = 2;
    private const byte EntryMark = 0x10;

    // .nv.info records: a format byte, an attribute byte, then for EIFMT_SVAL a 2-byte size and
    // that many bytes; other formats carry a 2-byte value in place of the size.
    private const byte FormatSizedValue = 0x04;
    private const byte MaxThreadsAttribute = 0x05;
    private const byte FrameSizeAttribute = 0x11;
    private const byte MaxStackSizeAttribute = 0x23;
    private const byte RegisterCountAttribute = 0x2f;

    private readonly record struct Section(string Name, uint Type, long Offset, long Size, uint Link, uint Info);

    private readonly record struct Symbol(string Name, int Type, byte Other);

    /// <summary>The resources of every kernel in <paramref name="cubin"/>, by name; a malformed image throws InvalidDataException.</summary>
    public static IReadOnlyDictionary<string, KernelResources> Read(byte[] cubin)
    {
        var sections = Sections(cubin);
        var symbols = Symbols(cubin, sections);
        var perSymbol = FunctionAttributes(cubin, sections);
        var kernels = new SortedDictionary<string, KernelResources>(StringComparer.Ordinal);
        for (int index = 0; index < symbols.Count; index++)
        {
            var symbol = symbols[index];
            if (symbol.Type != SymbolFunction || (symbol.Other & EntryMark) == 0) continue;
            var text = Find(sections, ".text." + symbol.Name)
                ?? throw new InvalidDataException($"kernel {symbol.Name} has no .text.{symbol.Name} section");
            perSymbol.TryGetValue(index, out var attributes);
            int registers = attributes?.GetValueOrDefault(RegisterCountAttribute) is int counted and > 0 ? counted : (int)(text.Info >> 24);
            kernels[symbol.Name] = new KernelResources(symbol.Name, registers,
                attributes?.GetValueOrDefault(FrameSizeAttribute) ?? 0,
                attributes?.GetValueOrDefault(MaxStackSizeAttribute) ?? 0,
                (int)(Find(sections, ".nv.shared." + symbol.Name)?.Size ?? 0),
                MaxThreads(cubin, Find(sections, ".nv.info." + symbol.Name)));
        }
        return kernels;
    }

    private static Section? Find(List<Section> sections, string name)
    {
        foreach (var section in sections)
            if (section.Name == name) return section;
        return null;
    }

    private static List<Section> Sections(byte[] image)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException("not an ELF image");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 image");
        ushort machine = U16(image, 0x12);
        if (machine != MachineCuda)
            throw new InvalidDataException($"an ELF image for machine {machine}, not a CUBIN (EM_CUDA, {MachineCuda})");
        long headers = (long)U64(image, 0x28);
        int headerSize = U16(image, 0x3a), count = U16(image, 0x3c), names = U16(image, 0x3e);
        if (headerSize < 64 || headers < 0 || headers + (long)headerSize * count > image.Length || names >= count)
            throw new InvalidDataException("the section header table lies outside the image");
        var nameOffsets = new uint[count];
        var sections = new List<Section>(count);
        for (int i = 0; i < count; i++)
        {
            int at = (int)(headers + (long)i * headerSize);
            nameOffsets[i] = U32(image, at);
            var section = new Section("", U32(image, at + 4), (long)U64(image, at + 24), (long)U64(image, at + 32), U32(image, at + 40), U32(image, at + 44));
            // NOBITS sections (.nv.shared.*) have a size but no bytes in the file.
            if (section.Type != SectionNoBits && (section.Offset < 0 || section.Size < 0 || section.Offset + section.Size > image.Length))
                throw new InvalidDataException($"section {i} lies outside the image");
            sections.Add(section);
        }
        var nameTable = sections[names];
        for (int i = 0; i < count; i++)
            sections[i] = sections[i] with { Name = String(image, nameTable, nameOffsets[i]) };
        return sections;
    }

    private static List<Symbol> Symbols(byte[] image, List<Section> sections)
    {
        var table = sections.FirstOrDefault(section => section.Type == SectionSymbolTable);
        if (table.Type != SectionSymbolTable || table.Link >= sections.Count)
            throw new InvalidDataException("the image has no symbol table");
        var strings = sections[(int)table.Link];
        var symbols = new List<Symbol>((int)(table.Size / 24));
        for (long at = table.Offset; at + 24 <= table.Offset + table.Size; at += 24)
        {
            int entry = (int)at;
            symbols.Add(new Symbol(String(image, strings, U32(image, entry)), image[entry + 4] & 0xf, image[entry + 5]));
        }
        return symbols;
    }

    /// <summary>The module's .nv.info: for each function symbol, its attributes whose record is (symbol index, value).</summary>
    private static Dictionary<int, Dictionary<byte, int>> FunctionAttributes(byte[] image, List<Section> sections)
    {
        var attributes = new Dictionary<int, Dictionary<byte, int>>();
        if (Find(sections, ".nv.info") is not { } info) return attributes;
        foreach (var (attribute, data) in Records(image, info))
        {
            if (attribute is not (RegisterCountAttribute or FrameSizeAttribute or MaxStackSizeAttribute) || data.Length != 8) continue;
            int symbol = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (!attributes.TryGetValue(symbol, out var values))
                attributes[symbol] = values = [];
            values[attribute] = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(data[4..]));
        }
        return attributes;
    }

    /// <summary>EIATTR_MAX_THREADS (x, y, z) of a kernel's .nv.info.&lt;name&gt;, as threads per block; null when absent.</summary>
    private static int? MaxThreads(byte[] image, Section? info)
    {
        if (info is not { } section) return null;
        foreach (var (attribute, data) in Records(image, section))
            if (attribute == MaxThreadsAttribute && data.Length == 12)
                return checked((int)(BinaryPrimitives.ReadUInt32LittleEndian(data)
                    * BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) * BinaryPrimitives.ReadUInt32LittleEndian(data[8..])));
        return null;
    }

    /// <summary>The EIFMT_SVAL records of an .nv.info section: attribute and data; records of other formats are stepped over.</summary>
    private static List<(byte Attribute, byte[] Data)> Records(byte[] image, Section section)
    {
        var records = new List<(byte, byte[])>();
        long at = section.Offset, end = section.Offset + section.Size;
        while (at + 4 <= end)
        {
            byte format = image[at], attribute = image[at + 1];
            int size = U16(image, (int)at + 2);
            at += 4;
            if (format != FormatSizedValue) continue;
            if (at + size > end)
                throw new InvalidDataException($"{section.Name}: a record of {size} bytes runs past the section's end");
            records.Add((attribute, image.AsSpan((int)at, size).ToArray()));
            at += size;
        }
        return records;
    }

    private static string String(byte[] image, Section table, uint offset)
    {
        if (offset >= table.Size)
            throw new InvalidDataException($"a name at offset {offset} lies outside its string table");
        int start = (int)(table.Offset + offset);
        int end = Array.IndexOf(image, (byte)0, start, (int)(table.Offset + table.Size - start));
        if (end < 0) throw new InvalidDataException("a name in a string table has no terminating NUL");
        return Encoding.ASCII.GetString(image, start, end - start);
    }

    private static ushort U16(byte[] image, int at) => BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(at));

    private static uint U32(byte[] image, int at) => BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(at));

    private static ulong U64(byte[] image, int at) => BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(at));
}
