using Scone.Cli;

return CommandLine.Run(args);
