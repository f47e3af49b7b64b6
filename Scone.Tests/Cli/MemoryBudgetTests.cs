using NUnit.Framework;
using Scone.Cli;
using Scone.Engine;
using Scone.Engine.Models;

using Scone.Tests.Models;

namespace Scone.Tests.Cli;

/// <summary>The memory a run needs, against what there is, and the line that says what would fit.</summary>
public class MemoryBudgetTests
{
    private static readonly Model Model = TestModels.Image("scone", ("hidden", "64"));

    [Test]
    public void EachRowCostsTheActivationsTheNetworksAllocate()
    {
        // z of 4 hidden layers, u of the 3 after the first (fused: it keeps none) and two gradient buffers, 64 wide;
        // y and dy, target (3 each); x (2); an index.
        Assert.That(MemoryBudget.BytesPerRow(Model), Is.EqualTo(4.0 * (9 * 64 + 9 + 2 + 1)));
    }

    [Test]
    public void ARunThatFitsPassesAndOneThatDoesNotSaysWhatWould()
    {
        var budget = MemoryBudget.Training(Model, 100_000, MemoryBudget.Batch).Host("the image", 1e6);
        double needed = budget.Total;
        Assert.That(needed, Is.EqualTo(8.0 * 4 * Model.ParameterCount + 100_000 * MemoryBudget.BytesPerRow(Model) + 1e6));
        budget.Check(deviceAvailable: null, hostAvailable: (long)needed);

        long available = 10_000_000;
        var e = Assert.Throws<InputException>(() => budget.Check(deviceAvailable: null, hostAvailable: available))!;
        long most = (long)Math.Floor((available - (needed - 100_000 * MemoryBudget.BytesPerRow(Model))) / MemoryBudget.BytesPerRow(Model));
        Assert.That(e.Message, Does.Contain($"at most --batch {most:N0} would fit").And.Contain("9.5 MiB is available").And.Contain("100,000 rows of activations"));
    }

    [Test]
    public void ADeviceIsCheckedApartFromTheHost()
    {
        var budget = MemoryBudget.Training(Model, 1000, MemoryBudget.Batch).Host("the video", 5e9);
        budget.Check(deviceAvailable: 1L << 30, hostAvailable: 6_000_000_000);
        var host = Assert.Throws<InputException>(() => budget.Check(deviceAvailable: 1L << 30, hostAvailable: 1L << 30))!;
        Assert.That(host.Message, Does.Contain("on the host").And.Contain("the video"));
        var device = Assert.Throws<InputException>(() => budget.Check(deviceAvailable: 1 << 20, hostAvailable: 6_000_000_000))!;
        Assert.That(device.Message, Does.Contain("on the device").And.Contain("would fit"));
    }

    [Test]
    public void ABatchBeyondOneBufferIsRefusedWhateverTheMemory()
    {
        var e = Assert.Throws<InputException>(() => MemoryBudget.CheckRows(Model, 2_000_000_000, MemoryBudget.Batch))!;
        Assert.That(e.Message, Does.Contain($"at most --batch {int.MaxValue / 64:N0} would"));
        MemoryBudget.CheckRows(Model, int.MaxValue / 64, MemoryBudget.Batch);
    }

    [TestCase(512, "512 B")]
    [TestCase(1536, "1.5 KiB")]
    [TestCase(3L << 30, "3.0 GiB")]
    public void SizesReadAsBinaryUnits(long bytes, string text) => Assert.That(MemoryBudget.Size(bytes), Is.EqualTo(text));
}
