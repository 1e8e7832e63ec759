/*
 * Copyright (c) 2026 The Foldpath authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#include <config.h>

#include "foldpath.h"

#include "fp_version.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "unixctl.h"

VLOG_DEFINE_THIS_MODULE(foldpath);

/* Replies to "foldpath/version" with the Foldpath, DPDK and Open vSwitch
 * versions, one per line, most specific first. */
static void
foldpath_unixctl_version(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds reply = DS_EMPTY_INITIALIZER;

    ds_put_format(&reply, "Foldpath %s (revision %s)\n",
                  fp_version(), fp_version_revision());
    ds_put_format(&reply, "%s\n", fp_version_dpdk());
    ds_put_format(&reply, "Open vSwitch %s\n", VERSION);
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
}

/* Logs the Foldpath, DPDK and OVS versions and registers
 * foldpath/version, once.  The bridge calls it at start. */
void
foldpath_init(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        char version[128];

        fp_version_format(version, sizeof version);
        VLOG_INFO("%s", version);
        unixctl_command_register("foldpath/version", "", 0, 0,
                                 foldpath_unixctl_version, NULL);
        ovsthread_once_done(&once);
    }
}
