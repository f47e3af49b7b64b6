namespace Scone.Engine;

/// <summary>
/// Bad input from the user: a missing or malformed file, an option out of range. The command line
/// prints its message as one line and exits with code 2, so the message must name the problem
/// (and the file, where there is one) on its own.
/// </summary>
public sealed class InputException(string message, Exception? inner = null) : Exception(message, inner);
