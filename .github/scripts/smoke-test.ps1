# The server as a user tries it first, on Windows: start it, publish, follow /events, list
# /peers.json, stop it. Then the same binary as a Windows service (goop-rendezvous-service.ps1):
# registered, running, answering, stopped by the Service Control Manager, removed.
#   .github/scripts/smoke-test.ps1 -InstallDir <unpacked ZIP with bin\goop-rendezvous.exe>
param([Parameter(Mandatory)][string]$InstallDir)
$ErrorActionPreference = "Stop"
$exe = Join-Path $InstallDir "bin\goop-rendezvous.exe"

function Wait-Healthy([string]$base) {
    for ($i = 0; $i -lt 100; $i++) {
        try { if ((Invoke-WebRequest "$base/healthz" -UseBasicParsing).Content -eq "ok") { return } } catch {}
        Start-Sleep -Milliseconds 100
    }
    throw "$base/healthz never answered ok"
}
function Publish([string]$base, [string]$type, [string]$peer) {
    $body = "{`"type`":`"$type`",`"peerId`":`"$peer`",`"content`":`"smoke`"}"
    $reply = Invoke-WebRequest -Method Post "$base/publish" -Body $body -UseBasicParsing
    if ($reply.StatusCode -ne 204) { throw "publish answered $($reply.StatusCode)" }
}

# --- in a console --------------------------------------------------------------------------
$base = "http://127.0.0.1:18787"
$server = Start-Process $exe -ArgumentList "-addr", "127.0.0.1:18787" -PassThru -NoNewWindow `
    -RedirectStandardError server.log
Wait-Healthy $base
$events = Start-Process curl.exe -ArgumentList "-sN", "--max-time", "4", "$base/events" -PassThru `
    -NoNewWindow -RedirectStandardOutput events.txt
Start-Sleep -Milliseconds 700
Publish $base "online" "smoke-peer"
$peers = Invoke-RestMethod "$base/peers.json"
if (-not ($peers | Where-Object { $_.peer_id -eq "smoke-peer" })) { throw "/peers.json lacks the peer" }
$bad = try { Invoke-WebRequest -Method Post "$base/publish" -Body "{" -UseBasicParsing; 0 } catch { $_.Exception.Response.StatusCode.value__ }
if ($bad -ne 400) { throw "a malformed publish answered $bad, not 400" }
$events.WaitForExit()
$stream = Get-Content events.txt -Raw
if ($stream -notmatch ": ok" -or $stream -notmatch '"peerId":"smoke-peer"') { throw "the event stream lacks the event: $stream" }
Stop-Process $server
Write-Output "console run: healthz, publish, 400 on bad JSON, /peers.json and /events all fine"

# --- as a service --------------------------------------------------------------------------
$script = Join-Path $InstallDir "bin\goop-rendezvous-service.ps1"
& $script -Install -InstallDir $InstallDir -Address "127.0.0.1:18788"
$service = Get-Service goop-rendezvous
if ($service.Status -ne "Running") { throw "the service is $($service.Status), not Running" }
Wait-Healthy "http://127.0.0.1:18788"
Publish "http://127.0.0.1:18788" "online" "service-peer"
$clock = [Diagnostics.Stopwatch]::StartNew()
Stop-Service goop-rendezvous
(Get-Service goop-rendezvous).WaitForStatus("Stopped", [TimeSpan]::FromSeconds(10))
Write-Output "the service stopped in $($clock.ElapsedMilliseconds) ms"
if ($clock.ElapsedMilliseconds -gt 5000) { throw "stopping the service took too long" }
& $script -Uninstall
if (Get-Service goop-rendezvous -ErrorAction SilentlyContinue) { throw "the service is still registered" }
Write-Output "service: installed, running, answering, stopped, removed"
