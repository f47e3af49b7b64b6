namespace Scone.Engine.Backends;

/// <summary>
/// A backend that can record a sequence of its primitives once and replay it with one launch
/// (CUDA graphs): the trainer captures a full-batch step this way, since its launches are the
/// same every step and only device memory (the parameters, the Adam schedule) changes.
/// </summary>
public interface ICapturingBackend
{
    /// <summary>Whether <see cref="Capture"/> works here now.</summary>
    bool CanCapture { get; }

    /// <summary>Records what <paramref name="body"/> queues (primitives only: no upload, download, copy or wait), without running it.</summary>
    IReplayable Capture(Action body);
}

/// <summary>Captured work: each <see cref="Launch"/> queues one replay.</summary>
public interface IReplayable : IDisposable
{
    void Launch();
}
