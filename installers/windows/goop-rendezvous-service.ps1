<#
.SYNOPSIS
  Registers goop-rendezvous as a Windows service, or removes it.
.DESCRIPTION
  goop-rendezvous answers the Service Control Manager itself (it reports "running" once it
  listens and stops within 2 s when asked), so it is registered as a plain service: started
  automatically at boot, as NT AUTHORITY\LocalService (no rights beyond the network),
  restarted by the SCM 5 s after a failure. Logs: the dashboard's /logs.json, or run the
  program in a console. Run from an elevated prompt; the installer calls it with -Install
  and -Uninstall.
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
$serviceName = "goop-rendezvous"

function Invoke-Sc {
    & sc.exe @args | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "sc.exe $($args -join ' ') failed with $LASTEXITCODE" }
}

if ($Uninstall) {
    if (Get-Service -Name $serviceName -ErrorAction SilentlyContinue) {
        Stop-Service -Name $serviceName -ErrorAction SilentlyContinue
        Invoke-Sc delete $serviceName
    }
    exit 0
}
if (-not $Install) {
    Get-Help $MyInvocation.MyCommand.Path
    exit 2
}

$exe = Join-Path $InstallDir "bin\goop-rendezvous.exe"
if (-not (Test-Path $exe)) { throw "goop-rendezvous.exe not found at $exe" }
if (Get-Service -Name $serviceName -ErrorAction SilentlyContinue) {
    Stop-Service -Name $serviceName -ErrorAction SilentlyContinue
    Invoke-Sc delete $serviceName
}
# sc.exe wants "name= value" as two arguments.
Invoke-Sc create $serviceName binPath= "`"$exe`" -addr $Address" start= auto `
    obj= "NT AUTHORITY\LocalService" DisplayName= "Goop Rendezvous"
Invoke-Sc description $serviceName "Goop2 rendezvous server on $Address"
Invoke-Sc failure $serviceName reset= 86400 actions= restart/5000/restart/5000/restart/60000
Start-Service -Name $serviceName
Write-Output "goop-rendezvous runs as the service '$serviceName' on $Address"
