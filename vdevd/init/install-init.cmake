# Writes the init scripts for one prefix and installs them (run by `cmake --install`, where
# CMAKE_INSTALL_PREFIX is the prefix really installed to; included at configure time too,
# with VDEV_INIT_WRITE_ONLY, to write them without installing). Inputs: VDEV_INIT_KINDS,
# VDEV_INIT_SOURCE_DIR, VDEV_INIT_WORK_DIR, VDEV_REL_{SBINDIR,BINDIR,LIBDIR,SYSCONFDIR} (as
# GNUInstallDirs gives them: relative to the prefix, or absolute), VDEV_<KIND>_DIR.

function(vdev_full_dir out rel)
  if(IS_ABSOLUTE "${rel}")
    set(${out} "${rel}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

vdev_full_dir(VDEV_SBINDIR "${VDEV_REL_SBINDIR}")
vdev_full_dir(VDEV_BINDIR "${VDEV_REL_BINDIR}")
vdev_full_dir(VDEV_LIBDIR "${VDEV_REL_LIBDIR}")
# Helpers and rules: PREFIX/lib/vdev (helpers/CMakeLists.txt, the top CMakeLists.txt).
set(VDEV_PKGLIBDIR "${CMAKE_INSTALL_PREFIX}/lib/vdev")
# GNUInstallDirs' rule: the configuration of /usr is in /etc, not /usr/etc.
if(VDEV_REL_SYSCONFDIR STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
  set(sysconfdir /etc)
else()
  vdev_full_dir(sysconfdir "${VDEV_REL_SYSCONFDIR}")
endif()
# vdevd's compiled-in directories are /etc/vdev/rules.d over /usr/lib/vdev/rules.d and
# /usr/lib/vdev; under another prefix the scripts name the installed ones.
if(VDEV_PKGLIBDIR STREQUAL "/usr/lib/vdev")
  set(VDEV_DIR_OPTS "")
else()
  set(VDEV_DIR_OPTS "--rules-dir /etc/vdev/rules.d --rules-dir ${VDEV_PKGLIBDIR}/rules.d \
--helper-dir ${VDEV_PKGLIBDIR}")
endif()

function(vdev_default out value fallback)
  if(value STREQUAL "")
    set(${out} "${fallback}" PARENT_SCOPE)
  else()
    set(${out} "${value}" PARENT_SCOPE)
  endif()
endfunction()
vdev_default(sysvinit_dir "${VDEV_SYSVINIT_DIR}" "${sysconfdir}/init.d")
vdev_default(openrc_dir "${VDEV_OPENRC_DIR}" "${sysconfdir}/init.d")
vdev_default(runit_dir "${VDEV_RUNIT_DIR}" "${sysconfdir}/sv")
vdev_default(s6_dir "${VDEV_S6_DIR}" "${sysconfdir}/s6/sv")
vdev_default(initramfs_dir "${VDEV_INITRAMFS_TOOLS_DIR}" "/usr/share/initramfs-tools")

set(executable OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
    WORLD_EXECUTE)
set(plain OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# vdev_init_file(KIND SOURCE DESTINATION_DIR MODE): SOURCE relative to the source directory;
# a name ending in .in is configured (@VDEV_SBINDIR@ ...) and loses the suffix.
function(vdev_init_file kind source destination mode)
  get_filename_component(name "${source}" NAME)
  get_filename_component(subdir "${source}" DIRECTORY)
  set(output "${VDEV_INIT_WORK_DIR}/${subdir}/${name}")
  if(name MATCHES "\\.in$")
    string(REGEX REPLACE "\\.in$" "" name "${name}")
    set(output "${VDEV_INIT_WORK_DIR}/${subdir}/${name}")
    configure_file("${VDEV_INIT_SOURCE_DIR}/${source}" "${output}" @ONLY)
  else()
    configure_file("${VDEV_INIT_SOURCE_DIR}/${source}" "${output}" COPYONLY)
  endif()
  if(NOT VDEV_INIT_WRITE_ONLY)
    file(INSTALL "${output}" DESTINATION "${destination}" FILE_PERMISSIONS ${${mode}})
  endif()
endfunction()

foreach(kind IN LISTS VDEV_INIT_KINDS)
  if(kind STREQUAL "SYSVINIT")
    vdev_init_file(${kind} sysvinit/vdev.in "${sysvinit_dir}" executable)
  elseif(kind STREQUAL "OPENRC")
    vdev_init_file(${kind} openrc/vdev.in "${openrc_dir}" executable)
  elseif(kind STREQUAL "RUNIT")
    vdev_init_file(${kind} runit/vdev/run.in "${runit_dir}/vdev" executable)
    vdev_init_file(${kind} runit/vdev/finish "${runit_dir}/vdev" executable)
  elseif(kind STREQUAL "S6")
    vdev_init_file(${kind} s6/vdev/run.in "${s6_dir}/vdev" executable)
    vdev_init_file(${kind} s6/vdev/finish "${s6_dir}/vdev" executable)
    vdev_init_file(${kind} s6/vdev/type "${s6_dir}/vdev" plain)
    vdev_init_file(${kind} s6/vdev/notification-fd "${s6_dir}/vdev" plain)
  elseif(kind STREQUAL "INITRAMFS_TOOLS")
    vdev_init_file(${kind} initramfs-tools/hooks/vdev.in "${initramfs_dir}/hooks" executable)
    vdev_init_file(${kind} initramfs-tools/scripts/init-top/vdev.in
                   "${initramfs_dir}/scripts/init-top" executable)
    vdev_init_file(${kind} initramfs-tools/scripts/init-bottom/vdev.in
                   "${initramfs_dir}/scripts/init-bottom" executable)
  endif()
endforeach()
