using NUnit.Framework;
using Scone.Kernels;

namespace Scone.Tests.Native;

/// <summary>
/// The occupancy calculation against cases worked by hand from the rules of NVIDIA's occupancy
/// calculator (cuda_occupancy.h): registers per warp rounded up to 256, four sub-partitions of
/// 16K registers, 64 warps and 32 blocks per multiprocessor, shared memory in 128-byte units plus
/// 1 KB reserved per block.
/// </summary>
public class OccupancyTests
{
    [TestCase(32, 256, 8, "registers+warps")]   // 1024 registers a warp: 16 warps a sub-partition, 64 an SM
    [TestCase(40, 256, 6, "registers")]         // 1280: 12 a sub-partition, 48 warps, 6 blocks of 8 warps
    [TestCase(45, 256, 5, "registers")]         // 1440 -> 1536: 10 a sub-partition, 40 warps
    [TestCase(128, 64, 8, "registers")]         // 4096: 4 a sub-partition, 16 warps, 8 blocks of 2 warps
    [TestCase(16, 32, 32, "blocks")]            // one warp a block: the 32-block limit
    [TestCase(255, 1024, 0, "registers")]       // 8192 a warp x 32 warps exceeds the 64K of a block: no launch
    [TestCase(256, 32, 0, "registers")]         // more than 255 registers a thread: no launch
    public void RegistersWarpsAndBlocksLimitAsTheCalculatorSays(int registers, int block, int blocks, string limiter)
    {
        var occupancy = Occupancy.Of(registers, 0, block, MultiprocessorLimits.Sm80);
        Assert.That(occupancy.BlocksPerMultiprocessor, Is.EqualTo(blocks));
        Assert.That(occupancy.Limiter, Is.EqualTo(limiter));
        Assert.That(occupancy.Fraction, Is.EqualTo(blocks * ((block + 31) / 32) / 64.0));
    }

    [Test]
    public void SharedMemoryCountsTheReservationInUnitsOf128Bytes()
    {
        // 40000 + 1024 = 41024 -> 41088 bytes a block: 167936 / 41088 = 4 on sm_80, 233472 / 41088 = 5 on sm_90.
        Assert.That(Occupancy.Of(16, 40000, 64, MultiprocessorLimits.Sm80).ByShared, Is.EqualTo(4));
        Assert.That(Occupancy.Of(16, 40000, 64, MultiprocessorLimits.Sm90).ByShared, Is.EqualTo(5));
        Assert.That(Occupancy.Of(16, 40000, 64, MultiprocessorLimits.Sm90).Limiter, Is.EqualTo("shared"));
        Assert.That(Occupancy.Of(16, 48 * 1024 + 1, 64, MultiprocessorLimits.Sm90).BlocksPerMultiprocessor, Is.Zero, "over the 48 KB of static shared memory a block");
    }

    [Test]
    public void ABlockOverTheThreadLimitCannotLaunch()
    {
        Assert.That(Occupancy.Of(16, 0, 1024, MultiprocessorLimits.Sm80).BlocksPerMultiprocessor, Is.EqualTo(2));
        Assert.That(Occupancy.Of(16, 0, 1025, MultiprocessorLimits.Sm80).BlocksPerMultiprocessor, Is.Zero);
    }

    [Test]
    public void OnlyKnownArchitecturesHaveLimits()
    {
        Assert.That(MultiprocessorLimits.For("sm_90").SharedBytes, Is.EqualTo(228 * 1024));
        Assert.That(() => MultiprocessorLimits.For("sm_75"), Throws.ArgumentException.With.Message.Contains("known: sm_80, sm_90"));
    }
}
