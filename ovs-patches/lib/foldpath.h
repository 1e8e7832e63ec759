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

#ifndef FOLDPATH_H
#define FOLDPATH_H 1

/* Foldpath integration.
 *
 * Foldpath extends the userspace datapath with libraries of its own (the
 * "fp_" functions), which are built outside this tree and linked into
 * ovs-vswitchd.  This module holds what is not tied to one datapath module:
 * it logs, and answers "ovs-appctl foldpath/version" with, the Foldpath build
 * that the daemon actually links, and the DPDK it runs against.
 *
 * Thread-safety
 * =============
 *
 * foldpath_init() may be called from any thread, any number of times; only
 * the first call has an effect. */

void foldpath_init(void);

#endif /* foldpath.h */
