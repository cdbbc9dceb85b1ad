<#
.SYNOPSIS
  Registers goop-rendezvous to run in the background from boot, or removes it.
.DESCRIPTION
  goop-rendezvous is a console program without a Windows service entry point, so the Service
  Control Manager would kill it after 30 s. Instead this registers a scheduled task that
  starts it at boot as LOCAL SERVICE (no rights beyond the network), listening on
  127.0.0.1:8787, and restarts it up to 999 times, a minute apart, if it exits.
  Run from an elevated prompt; the installer calls it with -Install and -Uninstall.
.EXAMPLE
  .\goop-rendezvous-service.ps1 -Install -InstallDir "C:\Program Files\Goop Rendezvous" -Address 0.0.0.0:8787
#>
param(
    [switch]$Install,
    [switch]$Uninstall,
    [string]$InstallDir = (Split-Path -Parent $PSScriptRoot),
    [string]$Address = "127.0.0.1:8787"
)
$ErrorActionPreference = "Stop"
$taskName = "Goop Rendezvous"

if ($Uninstall) {
    if (Get-ScheduledTask -TaskName $taskName -ErrorAction SilentlyContinue) {
        Stop-ScheduledTask -TaskName $taskName -ErrorAction SilentlyContinue
        Unregister-ScheduledTask -TaskName $taskName -Confirm:$false
    }
    Get-Process goop-rendezvous -ErrorAction SilentlyContinue | Stop-Process -Force
    exit 0
}
if (-not $Install) {
    Get-Help $MyInvocation.MyCommand.Path
    exit 2
}

$exe = Join-Path $InstallDir "bin\goop-rendezvous.exe"
if (-not (Test-Path $exe)) { throw "goop-rendezvous.exe not found at $exe" }
$action = New-ScheduledTaskAction -Execute $exe -Argument "-addr $Address" -WorkingDirectory (Split-Path $exe)
$trigger = New-ScheduledTaskTrigger -AtStartup
$principal = New-ScheduledTaskPrincipal -UserId "NT AUTHORITY\LOCALSERVICE" -LogonType ServiceAccount
$settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -StartWhenAvailable
Register-ScheduledTask -TaskName $taskName -Action $action -Trigger $trigger -Principal $principal `
    -Settings $settings -Description "Goop2 rendezvous server on $Address" -Force | Out-Null
Start-ScheduledTask -TaskName $taskName
Write-Output "goop-rendezvous registered as the scheduled task '$taskName' on $Address"
