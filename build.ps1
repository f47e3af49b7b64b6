#!/usr/bin/env pwsh
# Scone's build entry point. Runs under the PowerShell of the repository's tool manifest:
#   dotnet tool restore
#   dotnet pwsh build.ps1 <target> [-Configuration Release] [-- extra args]
# Targets:
#   build    compile the solution (warnings are errors)
#   test     build the CUDA emulator and run the NUnit suite with the CUDA tests on it (as CI does)
#   emulator build the CUDA emulator (emulator/, g++ and cmake) and run its own tests
#   bench    run `scone bench` on the CPU and write artifacts/bench/cpu.json
#   publish  self-contained single-file scone for linux-x64 into artifacts/publish
param(
    [Parameter(Position = 0)][ValidateSet('build', 'test', 'emulator', 'bench', 'publish')][string]$Target = 'build',
    [string]$Configuration = 'Release',
    [string]$Runtime = 'linux-x64',
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    Write-Host "> $Exe $($Arguments -join ' ')"
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe exited with $LASTEXITCODE" }
}

switch ($Target) {
    'build' { Invoke-Checked dotnet (@('build', 'Scone.sln', '-c', $Configuration) + $Rest) }
    'test' {
        $env:SCONE_CUDA_EMULATOR = (& bash scripts/build-emulator.sh | Select-Object -Last 1)
        if ($LASTEXITCODE -ne 0) { throw "building the CUDA emulator failed" }
        Invoke-Checked dotnet (@('test', '-c', $Configuration) + $Rest)
    }
    'emulator' { Invoke-Checked bash @('scripts/build-emulator.sh', '--test') }
    'bench' {
        New-Item -ItemType Directory -Force artifacts/bench | Out-Null
        Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'Scone.Cli', '--', 'bench', '--device', 'cpu', '--out', 'artifacts/bench/cpu.json') + $Rest)
    }
    'publish' {
        Invoke-Checked dotnet (@('publish', 'Scone.Cli', '-c', 'Release', '-r', $Runtime, '--self-contained', 'true',
            '-p:PublishSingleFile=true', '-p:IncludeNativeLibrariesForSelfExtract=true', '-o', "artifacts/publish/$Runtime") + $Rest)
    }
}
