# Windows: an NSIS installer with two components (the monitor with a Start-menu entry; the
# server, optionally registered to start with Windows) and a ZIP of the same files.
set(CPACK_GENERATOR NSIS ZIP)
set(CPACK_PACKAGE_INSTALL_REGISTRY_KEY "Goop Rendezvous")
set(CPACK_NSIS_PACKAGE_NAME "Goop Rendezvous ${PROJECT_VERSION}")
set(CPACK_NSIS_DISPLAY_NAME "Goop Rendezvous")
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MODIFY_PATH OFF)
set(CPACK_NSIS_URL_INFO_ABOUT "${GOOP_PACKAGE_HOMEPAGE}")
set(CPACK_NSIS_CONTACT "${GOOP_PACKAGE_MAINTAINER}")
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\\\goop-monitor.exe")
set(CPACK_NSIS_MUI_FINISHPAGE_RUN "goop-monitor.exe")
# Start-menu entry for the monitor (executable name without .exe, then the label).
set(CPACK_PACKAGE_EXECUTABLES "goop-monitor" "Goop Monitor")
set(CPACK_CREATE_DESKTOP_LINKS "goop-monitor")
set(CPACK_NSIS_MENU_LINKS "doc/DEPLOYMENT.md" "Deployment guide")

# The server as a Windows service from boot: goop-rendezvous answers the Service Control
# Manager itself (server/app/windowsservice.cpp); goop-rendezvous-service.ps1 registers it
# (automatic start, LocalService, restart on failure). The script is part of the server
# component, so this runs only when that component is chosen.
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS [=[
  IfFileExists "$INSTDIR\bin\goop-rendezvous-service.ps1" 0 +2
    ExecWait 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "$INSTDIR\bin\goop-rendezvous-service.ps1" -Install -InstallDir "$INSTDIR"'
]=])
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS [=[
  IfFileExists "$INSTDIR\bin\goop-rendezvous-service.ps1" 0 +2
    ExecWait 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "$INSTDIR\bin\goop-rendezvous-service.ps1" -Uninstall'
]=])

set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)
set(CPACK_PACKAGE_FILE_NAME "goop-rendezvous-${PROJECT_VERSION}-windows-${CMAKE_SYSTEM_PROCESSOR}")
