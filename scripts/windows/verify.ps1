# cordon's verification kit for a real Windows host.
#
# Builds tests/windows/verify and runs it: it prepares cordon's unelevated
# sandbox on a scratch workspace in your profile, runs escape probes inside
# it, and prints each against cordon's promise and the access-check model's
# prediction, then "N passed, N failed, N observed, N model mismatches".
# It removes the scratch directory and every ACE it added when done
# (-Keep leaves them for inspection). Run it from a normal, non-elevated
# PowerShell prompt in the repository root, with Go installed:
#
#   powershell -ExecutionPolicy Bypass -File scripts\windows\verify.ps1
#
# Exit status: 0 all promises held and the model agreed, 1 otherwise, 3 the
# sandbox could not be prepared. See scripts/windows/README.md.
param([switch]$Keep)
$ErrorActionPreference = 'Stop'
$exe = Join-Path $env:TEMP 'cordon-verify.exe'
go build -o $exe ./tests/windows/verify
if ($LASTEXITCODE -ne 0) { exit 3 }
$flags = @()
if ($Keep) { $flags += '-keep' }
& $exe @flags
$status = $LASTEXITCODE
Remove-Item $exe -ErrorAction SilentlyContinue
exit $status
