# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE).

if(CPACK_GENERATOR STREQUAL "DEB")
    # CPackDeb prepends the project-wide summary to every component's description unless
    # the summary is CPack's default. Our two packages need two synopses, which are the
    # first lines of CPACK_DEBIAN_<COMPONENT>_DESCRIPTION, so the prepending must not happen.
    set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_DEFAULT_PACKAGE_DESCRIPTION_SUMMARY}")
endif()
