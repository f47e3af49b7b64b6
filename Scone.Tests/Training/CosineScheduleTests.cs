using NUnit.Framework;
using Scone.Engine.Training;

namespace Scone.Tests.Training;

public class CosineScheduleTests
{
    [Test]
    public void StartsAtTheRateAndApproachesTheFloor()
    {
        Assert.That(CosineSchedule.LearningRate(0, 10_000, 1e-4), Is.EqualTo(1e-4).Within(1e-18));
        Assert.That(CosineSchedule.LearningRate(5_000, 10_000, 1e-4), Is.EqualTo(1e-6 + (1e-4 - 1e-6) / 2).Within(1e-18));
        Assert.That(CosineSchedule.LearningRate(9_999, 10_000, 1e-4), Is.EqualTo(1e-6 + (1e-4 - 1e-6) * (1 + Math.Cos(Math.PI * 0.9999)) / 2).Within(1e-18));
        Assert.That(CosineSchedule.LearningRate(9_999, 10_000, 1e-4), Is.GreaterThan(1e-6).And.LessThan(1.01e-6));
    }

    [Test]
    public void DecreasesMonotonically()
    {
        double previous = double.PositiveInfinity;
        for (int t = 0; t < 100; t++)
        {
            double rate = CosineSchedule.LearningRate(t, 100, 5e-4);
            Assert.That(rate, Is.LessThan(previous));
            previous = rate;
        }
    }
}
