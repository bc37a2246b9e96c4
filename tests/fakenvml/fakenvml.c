/*
 * fakenvml.c: a stand-in for NVIDIA's libnvidia-ml.so.1, so that the real nvidia-ml-py binding (pynvml)
 * can be exercised through ctypes on machines without a GPU. Signatures, enum values and struct layouts
 * follow nvml.h; the _Static_asserts below pin the layouts that pynvml's ctypes structures expect.
 *
 * Every GPU is an "NVIDIA H100 80GB HBM3". Load, power, temperature and memory are smooth functions of
 * CLOCK_MONOTONIC time with a different phase per GPU, so they move between samples, differ between GPUs
 * and between processes agree, and always stay in realistic ranges.
 *
 * Build (tests/fakenvml/build.py does this):
 *   gcc -std=gnu11 -O2 -Wall -Wextra -shared -fPIC -pthread -Wl,-soname,libnvidia-ml.so.1 \
 *       -o libnvidia-ml.so.1 fakenvml.c -lm
 *
 * Environment, read by the first nvmlInit* or fakenvml_* call, and again by the first after fakenvml_reset():
 *   FAKENVML_GPU_COUNT    number of GPUs, 0..64 (default 2).
 *   FAKENVML_UNSUPPORTED  comma-separated NVML function names that return NVML_ERROR_NOT_SUPPORTED for
 *                         every device; a name without a _vN suffix also covers its versioned variants
 *                         (nvmlDeviceGetMemoryInfo covers nvmlDeviceGetMemoryInfo_v2).
 *   FAKENVML_LOST         comma-separated GPU indexes whose every device call, nvmlDeviceGetHandleByIndex
 *                         included, returns NVML_ERROR_GPU_IS_LOST.
 *   FAKENVML_INIT_ERROR   an nvmlReturn_t number that nvmlInit* returns, e.g. 9 (DRIVER_NOT_LOADED).
 *   FAKENVML_PIDS         comma-separated pids that every GPU reports as compute processes. Unset: the
 *                         calling process's own pid. Set but empty: no processes.
 *   FAKENVML_LATENCY_US   comma-separated name=microseconds pairs: every call of that function (a name
 *                         without _vN covers its versions) sleeps that long, as a real driver takes time;
 *                         "*=N" sets the latency of every other function. Errors take the same time.
 *   FAKENVML_UNSUPPORTED_FIELDS  comma-separated field ids that nvmlDeviceGetFieldValues answers with
 *                         NVML_ERROR_NOT_SUPPORTED in that entry (e.g. 197,198: no PCIe byte counters).
 *   FAKENVML_HANG_GPU     index of a GPU whose ECC, retired-page and remapped-row queries hang:
 *   FAKENVML_HANG_AFTER_S   the hang starts this many seconds after the first nvmlInit (default 0) ...
 *   FAKENVML_HANG_S         ... and lasts this many seconds; a call made inside it returns when it ends.
 *   FAKENVML_HANG_FILE      instead of the two above: the hang lasts while this file exists.
 *   FAKENVML_VGPU_LICENSE_STATE  an NVML_GRID_LICENSE_STATE_* number: every GPU is a licensed vGPU in
 *                         that state (unset: bare metal, nvmlDeviceGetGridLicensableFeatures NOT_SUPPORTED).
 *   FAKENVML_NO_GPM       comma-separated GPU indexes whose nvmlGpmQueryDeviceSupport reports no GPM
 *                         (as on a pre-Hopper GPU) and whose GPM samples are NVML_ERROR_NOT_SUPPORTED.
 *   FAKENVML_MIG          comma-separated "index:count" or "index:profile/profile/..." items: those GPUs are
 *                         in MIG mode with that many 1g.10gb MIG devices, or with the profiles given.
 *   FAKENVML_MIG_UNPRIVILEGED  "1": a MIG GPU's own process lists answer NVML_ERROR_NO_PERMISSION, as to
 *                         a caller without privileges; its MIG devices' lists still answer.
 *
 * Control functions for in-process tests, called through ctypes (they are not counted as NVML calls):
 *   void fakenvml_set_lost(unsigned index, int lost)
 *   void fakenvml_inject_xid(unsigned index, unsigned long long xid)
 *       queues an nvmlEventTypeXidCriticalError event on every event set where that GPU registered for it.
 *   void fakenvml_set_init_error(int code)          0 lets nvmlInit* succeed again.
 *   void fakenvml_reset(void)
 *       forgets lost GPUs, init errors and event sets, drops every nvmlInit, and re-reads the environment
 *       at the next nvmlInit*.
 *   unsigned long long fakenvml_call_count(void)    NVML calls served so far, for benchmarks.
 *   void fakenvml_set_hang(int index, double seconds)
 *       hangs GPU index's ECC/page/row queries from now for `seconds`; index -1 ends any hang at once.
 *   unsigned fakenvml_hung_calls(void)              calls blocked in a hang right now.
 *   long long fakenvml_gpm_samples_live(void)      GPM samples allocated and not yet freed.
 *   unsigned fakenvml_delayed_calls(void)           calls sleeping through their latency right now;
 *                                                   fakenvml_reset() ends those sleeps early.
 *
 * Field values that tests can predict, for GPU i at Unix time t (seconds since the library loaded):
 *   PCIe byte counters: TX (i+1)*100 MB/s, RX (i+1)*250 MB/s; NVLink: 18 links, each TX (i+1)*1000 KiB/s
 *   and RX (i+1)*2000 KiB/s; PCIe replay counter i; NVLink error totals of all links: CRC flit 10*i,
 *   CRC data 10*i+1, replay 10*i+2, recovery 10*i+3. Each value's timestamp is the instant it describes.
 * Violation status: policy p of GPU i reports (i+1)*(p+1) seconds of violation time.
 *
 * GPM (nvmlGpmMetricsGet) over any two samples of GPU i, 100 ms or more apart: percent metrics are
 * base + i with the bases in gpm_metrics[] below (SM activity 60 + i, tensor 30 + i, ...); PCIe TX/RX
 * (i+1)*100 / (i+1)*250 MiB/s, NVLink TX/RX (i+1)*1000 / (i+1)*2000 MiB/s. Samples closer than 100 ms,
 * out of order or of different GPUs are NVML_ERROR_INVALID_ARGUMENT.
 * Per-process utilization: one sample per process every 1/6 s (at multiples of 166667 us of Unix
 * time), the last 12 kept; the process at position j of the process list reports SM 10*(j+1)+i %,
 * memory 5*(j+1)+i %, encoder j %, decoder 2*j %. Only samples newer than lastSeenTimeStamp are
 * returned; none newer is NVML_ERROR_NOT_FOUND.
 *
 * MIG device k (nvmlDeviceGetMigDeviceHandleByIndex) of GPU i: GPU instance k+1, compute instance 0, used
 * memory k+1 GiB; process j of the list runs on device j % count. GPM per GPU instance g: percent metrics
 * base/2 + i + g, no byte rates. Utilization (device and per process) is NOT_SUPPORTED in MIG mode.
 * nvmlEventSetWait_v2 behaves as the real one: it returns a queued event at once, otherwise blocks until an
 * event is injected or timeoutms passes (NVML_ERROR_TIMEOUT); timeoutms 0 never blocks. nvmlShutdown and
 * nvmlEventSetFree wake blocked waiters.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- nvml.h types */

typedef enum nvmlReturn_enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_ALREADY_INITIALIZED = 5,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_INSUFFICIENT_POWER = 8,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_IRQ_ISSUE = 11,
    NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    NVML_ERROR_CORRUPTED_INFOROM = 14,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16,
    NVML_ERROR_OPERATING_SYSTEM = 17,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_IN_USE = 19,
    NVML_ERROR_MEMORY = 20,
    NVML_ERROR_NO_DATA = 21,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_UNKNOWN = 999
} nvmlReturn_t;

typedef enum { NVML_FEATURE_DISABLED = 0, NVML_FEATURE_ENABLED = 1 } nvmlEnableState_t;
typedef enum {
    NVML_CLOCK_GRAPHICS = 0,
    NVML_CLOCK_SM = 1,
    NVML_CLOCK_MEM = 2,
    NVML_CLOCK_VIDEO = 3
} nvmlClockType_t;
typedef enum { NVML_TEMPERATURE_GPU = 0 } nvmlTemperatureSensors_t;
typedef enum { NVML_PCIE_UTIL_TX_BYTES = 0, NVML_PCIE_UTIL_RX_BYTES = 1 } nvmlPcieUtilCounter_t;
typedef enum {
    NVML_MEMORY_ERROR_TYPE_CORRECTED = 0,
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
} nvmlMemoryErrorType_t;
typedef enum { NVML_VOLATILE_ECC = 0, NVML_AGGREGATE_ECC = 1 } nvmlEccCounterType_t;
typedef enum {
    NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS = 0,
    NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1
} nvmlPageRetirementCause_t;
typedef enum { NVML_PSTATE_0 = 0, NVML_PSTATE_UNKNOWN = 32 } nvmlPstates_t;
typedef enum { NVML_COMPUTEMODE_DEFAULT = 0 } nvmlComputeMode_t;
typedef enum {
    NVML_VALUE_TYPE_DOUBLE = 0,
    NVML_VALUE_TYPE_UNSIGNED_INT = 1,
    NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
    NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
    NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
    NVML_VALUE_TYPE_SIGNED_INT = 5,
    NVML_VALUE_TYPE_UNSIGNED_SHORT = 6
} nvmlValueType_t;

#define NVML_DEVICE_MIG_DISABLE 0U
#define NVML_DEVICE_MIG_ENABLE 1U
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_SERIAL_BUFFER_SIZE 30
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16
#define NVML_VALUE_NOT_AVAILABLE_UINT 0xFFFFFFFFU

#define NVML_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL 38
#define NVML_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL 45
#define NVML_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL 52
#define NVML_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL 59
#define NVML_FI_DEV_MEMORY_TEMP 82
#define NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION 83
#define NVML_FI_DEV_NVLINK_LINK_COUNT 91
#define NVML_FI_DEV_PCIE_REPLAY_COUNTER 94
#define NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX 138
#define NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX 139
#define NVML_FI_DEV_PCIE_COUNT_TX_BYTES 197
#define NVML_FI_DEV_PCIE_COUNT_RX_BYTES 198
#define NVML_SCOPE_ALL_LINKS 0xFFFFFFFFU

#define nvmlEventTypeSingleBitEccError 0x0000000000000001ULL
#define nvmlEventTypeDoubleBitEccError 0x0000000000000002ULL
#define nvmlEventTypePState 0x0000000000000004ULL
#define nvmlEventTypeXidCriticalError 0x0000000000000008ULL

#define nvmlClocksEventReasonGpuIdle 0x0000000000000001ULL
#define nvmlClocksEventReasonSwPowerCap 0x0000000000000004ULL

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlEventSet_st *nvmlEventSet_t;

typedef struct nvmlMemory_st {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct nvmlMemory_v2_st {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;

#define NVML_STRUCT_VERSION(data, ver) (unsigned int)(sizeof(nvml##data##_v##ver##_t) | ((ver) << 24U))
#define nvmlMemory_v2 NVML_STRUCT_VERSION(Memory, 2)

typedef struct nvmlUtilization_st {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

typedef struct nvmlPciInfo_st {
    char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
} nvmlPciInfo_t;

typedef struct nvmlProcessInfo_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef union nvmlValue_st {
    double dVal;
    int siVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct nvmlFieldValue_st {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    nvmlValueType_t valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct nvmlViolationTime_st {
    unsigned long long referenceTime;
    unsigned long long violationTime;
} nvmlViolationTime_t;

typedef enum { NVML_PERF_POLICY_COUNT = 12 } nvmlPerfPolicyType_t;

typedef struct nvmlEventData_st {
    nvmlDevice_t device;
    unsigned long long eventType;
    unsigned long long eventData;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlEventData_t;

_Static_assert(sizeof(nvmlReturn_t) == 4, "enums are C ints in the NVML ABI");
_Static_assert(sizeof(nvmlMemory_t) == 24, "pynvml c_nvmlMemory_t");
_Static_assert(sizeof(nvmlMemory_v2_t) == 40 && nvmlMemory_v2 == 0x02000028, "pynvml c_nvmlMemory_v2_t");
_Static_assert(sizeof(nvmlUtilization_t) == 8, "pynvml c_nvmlUtilization_t");
_Static_assert(sizeof(nvmlPciInfo_t) == 68 && offsetof(nvmlPciInfo_t, busId) == 36, "pynvml nvmlPciInfo_t");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24 && offsetof(nvmlProcessInfo_t, usedGpuMemory) == 8,
               "pynvml c_nvmlProcessInfo_v3_t");
_Static_assert(sizeof(nvmlFieldValue_t) == 40 && offsetof(nvmlFieldValue_t, value) == 32,
               "pynvml c_nvmlFieldValue_t");
_Static_assert(sizeof(nvmlEventData_t) == 32 && offsetof(nvmlEventData_t, gpuInstanceId) == 24,
               "pynvml c_nvmlEventData_t");

/* ---------------------------------------------------------------- the fake hardware */

#define FAKENVML_MAX_GPUS 64
#define FAKENVML_DEFAULT_GPU_COUNT 2
#define FAKENVML_MAX_LIST_ITEMS 64
#define FAKENVML_MAX_NAME_LEN 96
#define FAKENVML_MAX_EVENT_SETS 32
#define FAKENVML_EVENT_QUEUE_LEN 64
#define FAKENVML_NVLINKS 18
#define FAKENVML_HANG_POLL_NS 5000000L
#define FAKENVML_MAX_MIG 7 /* an H100's seven GPU-instance slices */
#define FAKENVML_DEFAULT_MIG_PROFILE "1g.10gb"

#define GPU_NAME "NVIDIA H100 80GB HBM3"
#define DRIVER_VERSION "550.54.15"
#define NVML_VERSION "12.550.54.15"
#define CUDA_DRIVER_VERSION 12040
#define GIB (1024ULL * 1024ULL * 1024ULL)
#define MIB (1024ULL * 1024ULL)
#define TOTAL_MEMORY_BYTES (80ULL * GIB)
#define RESERVED_MEMORY_BYTES (512ULL * MIB)
#define POWER_LIMIT_MW 700000U
#define MAX_GRAPHICS_CLOCK_MHZ 1980U
#define MAX_MEM_CLOCK_MHZ 2619U
#define MAX_VIDEO_CLOCK_MHZ 1755U
#define PCIE_MAX_GENERATION 5U
#define PCIE_MAX_WIDTH 16U
#define PCI_DEVICE_ID 0x233010DEU
#define PCI_SUBSYSTEM_ID 0x16C110DEU
#define CODEC_SAMPLING_PERIOD_US 167000U
#define SUPPORTED_EVENT_TYPES \
    (nvmlEventTypeSingleBitEccError | nvmlEventTypeDoubleBitEccError | nvmlEventTypePState | \
     nvmlEventTypeXidCriticalError)

/* load(t) = LOAD_MEAN + LOAD_SWING_SLOW sin(..) + LOAD_SWING_FAST sin(..) stays within [0.15, 0.95]. */
#define LOAD_MEAN 0.55
#define LOAD_SWING_SLOW 0.30
#define LOAD_SWING_FAST 0.10
/* power_w = IDLE + PER_LOAD * load stays within [156, 668] W, under the 700 W limit. */
#define POWER_IDLE_W 60.0
#define POWER_PER_LOAD_W 640.0
#define TWO_PI 6.283185307179586

/* Per-GPU identity and the constants of its activity curves; fixed at load time, never freed. */
struct nvmlDevice_st {
    unsigned index;
    int lost;
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    char serial[NVML_DEVICE_SERIAL_BUFFER_SIZE];
    char bus_id[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE];
    char bus_id_legacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    unsigned pci_bus;
    double phase;
    double slow_rad_per_s;
    double fast_rad_per_s;
    double memory_rad_per_s;
    double codec_rad_per_s;
    double base_memory_bytes;
    double energy_offset_mj;
    unsigned temperature_offset_c;
};

typedef struct nvmlDevice_st gpu_t;

/* One MIG device (a GPU instance with one compute instance spanning it) of a MIG-enabled fake GPU. Its
 * handle is its address, which lies outside gpus[], so a MIG handle passed where only a full GPU's is
 * accepted is told apart (NVML_ERROR_NOT_SUPPORTED, as the driver answers). Written when the
 * environment is read, under state_lock; read-only in between. */
typedef struct {
    unsigned gpu_index;
    unsigned slot; /* nvmlDeviceGetMigDeviceHandleByIndex index */
    unsigned gpu_instance_id;
    unsigned compute_instance_id;
    unsigned slices;
    unsigned long long memory_bytes;
    char profile[32];
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
} mig_t;

typedef struct {
    double load;
    double memory_load;
    double codec_load;
} activity_t;

struct nvmlEventSet_st {
    int in_use;
    unsigned long long registered[FAKENVML_MAX_GPUS];
    nvmlEventData_t queue[FAKENVML_EVENT_QUEUE_LEN];
    unsigned head;
    unsigned len;
};

/* Everything below is guarded by state_lock, except gpus[] identity fields, which never change. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t events_changed;
static gpu_t gpus[FAKENVML_MAX_GPUS];
static struct nvmlEventSet_st event_sets[FAKENVML_MAX_EVENT_SETS];
static mig_t migs[FAKENVML_MAX_GPUS][FAKENVML_MAX_MIG];
static struct {
    int configured;
    unsigned init_count;
    unsigned gpu_count;
    int init_error;
    char unsupported[FAKENVML_MAX_LIST_ITEMS][FAKENVML_MAX_NAME_LEN];
    unsigned unsupported_count;
    int report_own_pid;
    unsigned pids[FAKENVML_MAX_LIST_ITEMS];
    unsigned pid_count;
    char latency_names[FAKENVML_MAX_LIST_ITEMS][FAKENVML_MAX_NAME_LEN];
    unsigned long latency_us[FAKENVML_MAX_LIST_ITEMS];
    unsigned latency_count;
    unsigned long default_latency_us;
    unsigned unsupported_fields[FAKENVML_MAX_LIST_ITEMS];
    unsigned unsupported_field_count;
    int hang_gpu; /* -1: none */
    double hang_after_s, hang_s; /* the window, relative to hang_epoch_s (monotonic) */
    double hang_epoch_s;
    char hang_file[4096];
    unsigned hung_calls;
    unsigned delayed_calls;     /* calls sleeping through their latency right now */
    unsigned long long resets;  /* fakenvml_reset() count: ends every latency sleep early */
    int no_gpm[FAKENVML_MAX_GPUS]; /* FAKENVML_NO_GPM: GPUs whose GPM query says "not supported" */
    int mig_enabled[FAKENVML_MAX_GPUS]; /* FAKENVML_MIG: GPUs in MIG mode ... */
    unsigned mig_count[FAKENVML_MAX_GPUS]; /* ... and how many MIG devices each has */
    int mig_unprivileged; /* FAKENVML_MIG_UNPRIVILEGED: a MIG GPU's own process lists say NO_PERMISSION */
} state = {.hang_gpu = -1};
static long long load_realtime_us;
static unsigned long long calls_served;
static long long gpm_samples_live; /* allocated and not yet freed, for tests that check for leaks */

static long long realtime_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

__attribute__((constructor)) static void fakenvml_load(void) {
    load_realtime_us = realtime_us();
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&events_changed, &attr);
    pthread_condattr_destroy(&attr);

    for (unsigned i = 0; i < FAKENVML_MAX_GPUS; i++) {
        gpu_t *gpu = &gpus[i];
        gpu->index = i;
        gpu->pci_bus = 0x10 + i;
        snprintf(gpu->uuid, sizeof gpu->uuid, "GPU-fake0000-0000-0000-0000-%012u", i);
        snprintf(gpu->serial, sizeof gpu->serial, "1654922%06u", 1000 + i);
        snprintf(gpu->bus_id, sizeof gpu->bus_id, "%08X:%02X:%02X.0", 0U, gpu->pci_bus, 0U);
        snprintf(gpu->bus_id_legacy, sizeof gpu->bus_id_legacy, "%04X:%02X:%02X.0", 0U, gpu->pci_bus, 0U);
        gpu->phase = 1.7 * i;
        gpu->slow_rad_per_s = TWO_PI / (60.0 + 17.0 * i);
        gpu->fast_rad_per_s = TWO_PI / (11.0 + 3.0 * i);
        gpu->memory_rad_per_s = TWO_PI / (300.0 + 60.0 * i);
        gpu->codec_rad_per_s = TWO_PI / 45.0;
        gpu->base_memory_bytes = (double)((6 + (9 * i) % 40) * GIB);
        gpu->energy_offset_mj = 3.6e9 * (i + 1);
        gpu->temperature_offset_c = i % 4;
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double unit_wave(double rad_per_s, double t, double phase) {
    return 0.5 + 0.5 * sin(rad_per_s * t + phase);
}

static activity_t activity(const gpu_t *gpu, double t) {
    activity_t a;
    a.load = LOAD_MEAN + LOAD_SWING_SLOW * sin(gpu->slow_rad_per_s * t + gpu->phase) +
             LOAD_SWING_FAST * sin(gpu->fast_rad_per_s * t + 2.0 * gpu->phase);
    a.memory_load = unit_wave(gpu->memory_rad_per_s, t, gpu->phase);
    a.codec_load = unit_wave(gpu->codec_rad_per_s, t, 3.0 * gpu->phase);
    return a;
}

static activity_t current_activity(const gpu_t *gpu) { return activity(gpu, now_s()); }

static unsigned power_mw(const activity_t *a) {
    return (unsigned)lround(1000.0 * (POWER_IDLE_W + POWER_PER_LOAD_W * a->load));
}

/* The exact integral of power_mw over monotonic time, so energy always grows at the reported power. */
static unsigned long long energy_mj(const gpu_t *gpu, double t) {
    double mean_w = POWER_IDLE_W + POWER_PER_LOAD_W * LOAD_MEAN;
    double slow_phase = gpu->phase, fast_phase = 2.0 * gpu->phase;
    double slow = POWER_PER_LOAD_W * LOAD_SWING_SLOW / gpu->slow_rad_per_s *
                  (cos(slow_phase) - cos(gpu->slow_rad_per_s * t + slow_phase));
    double fast = POWER_PER_LOAD_W * LOAD_SWING_FAST / gpu->fast_rad_per_s *
                  (cos(fast_phase) - cos(gpu->fast_rad_per_s * t + fast_phase));
    return (unsigned long long)(gpu->energy_offset_mj + 1000.0 * (mean_w * t + slow + fast));
}

static unsigned temperature_c(const gpu_t *gpu, const activity_t *a) {
    return (unsigned)lround(34.0 + 48.0 * a->load) + gpu->temperature_offset_c;
}

static unsigned long long app_memory_bytes(const gpu_t *gpu, const activity_t *a) {
    return (unsigned long long)(gpu->base_memory_bytes + 24.0 * GIB * a->memory_load);
}

static unsigned graphics_clock_mhz(const activity_t *a) { return (unsigned)lround(1110.0 + 870.0 * a->load); }

/* ---------------------------------------------------------------- configuration */

static void trim(char *text) {
    size_t len = strlen(text), start = 0;
    while (len > 0 && isspace((unsigned char)text[len - 1])) text[--len] = '\0';
    while (isspace((unsigned char)text[start])) start++;
    memmove(text, text + start, len - start + 1);
}

/* Splits a comma-separated list into items, dropping blanks; returns how many were stored. */
static unsigned split_list(const char *text, char items[][FAKENVML_MAX_NAME_LEN], unsigned max_items) {
    unsigned count = 0;
    while (text && *text && count < max_items) {
        size_t len = strcspn(text, ",");
        size_t kept = len < FAKENVML_MAX_NAME_LEN - 1 ? len : FAKENVML_MAX_NAME_LEN - 1;
        memcpy(items[count], text, kept);
        items[count][kept] = '\0';
        trim(items[count]);
        if (items[count][0] != '\0') count++;
        text += len + (text[len] == ',');
    }
    return count;
}

static int parse_ulong(const char *text, unsigned long *value) {
    char *end;
    errno = 0;
    *value = strtoul(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && text[0] != '-';
}

static int parse_seconds(const char *text, double *value) {
    char *end;
    errno = 0;
    *value = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && *value >= 0;
}

/* FAKENVML_LATENCY_US: "name=us,...", "*=us" for every other function. */
static void read_latencies_locked(void) {
    char items[FAKENVML_MAX_LIST_ITEMS][FAKENVML_MAX_NAME_LEN];
    unsigned long value;
    unsigned count = split_list(getenv("FAKENVML_LATENCY_US"), items, FAKENVML_MAX_LIST_ITEMS);
    state.latency_count = 0;
    state.default_latency_us = 0;
    for (unsigned i = 0; i < count; i++) {
        char *equals = strchr(items[i], '=');
        if (equals == NULL) continue;
        *equals = '\0';
        trim(items[i]);
        trim(equals + 1);
        if (!parse_ulong(equals + 1, &value)) continue;
        if (strcmp(items[i], "*") == 0) {
            state.default_latency_us = value;
            continue;
        }
        memcpy(state.latency_names[state.latency_count], items[i], FAKENVML_MAX_NAME_LEN);
        state.latency_us[state.latency_count++] = value;
    }
}

static void read_hang_locked(void) {
    unsigned long index;
    double seconds;
    const char *text = getenv("FAKENVML_HANG_GPU");
    state.hang_gpu = text && parse_ulong(text, &index) && index < FAKENVML_MAX_GPUS ? (int)index : -1;
    state.hang_after_s = 0;
    text = getenv("FAKENVML_HANG_AFTER_S");
    if (text && parse_seconds(text, &seconds)) state.hang_after_s = seconds;
    state.hang_s = 0;
    text = getenv("FAKENVML_HANG_S");
    if (text && parse_seconds(text, &seconds)) state.hang_s = seconds;
    text = getenv("FAKENVML_HANG_FILE");
    snprintf(state.hang_file, sizeof state.hang_file, "%s", text ? text : "");
    state.hang_epoch_s = now_s();
}

/* One MIG device from a profile name "<slices>g.<GiB>gb"; returns 0 for a name that is not one. */
static int make_mig(unsigned gpu_index, unsigned slot, const char *profile) {
    unsigned slices, gib;
    char tail[4] = "";
    if (sscanf(profile, "%ug.%u%3s", &slices, &gib, tail) != 3 || strcmp(tail, "gb") != 0 || slices == 0 ||
        slices > FAKENVML_MAX_MIG || gib == 0 || gib > TOTAL_MEMORY_BYTES / GIB)
        return 0;
    mig_t *mig = &migs[gpu_index][slot];
    mig->gpu_index = gpu_index;
    mig->slot = slot;
    mig->gpu_instance_id = slot + 1;
    mig->compute_instance_id = 0;
    mig->slices = slices;
    mig->memory_bytes = gib * GIB;
    snprintf(mig->profile, sizeof mig->profile, "%ug.%ugb", slices, gib);
    snprintf(mig->uuid, sizeof mig->uuid, "MIG-fake%04u-%04u-0000-0000-%012u", gpu_index, slot, slot + 1);
    return 1;
}

/* FAKENVML_MIG: "index:count" (that many 1g.10gb devices) or "index:profile/profile/...", comma-separated. */
static void read_mig_locked(void) {
    char items[FAKENVML_MAX_LIST_ITEMS][FAKENVML_MAX_NAME_LEN];
    unsigned long value;
    for (unsigned i = 0; i < FAKENVML_MAX_GPUS; i++) state.mig_enabled[i] = 0, state.mig_count[i] = 0;
    unsigned count = split_list(getenv("FAKENVML_MIG"), items, FAKENVML_MAX_LIST_ITEMS);
    for (unsigned i = 0; i < count; i++) {
        char *colon = strchr(items[i], ':');
        if (colon == NULL) continue;
        *colon = '\0';
        if (!parse_ulong(items[i], &value) || value >= FAKENVML_MAX_GPUS) continue;
        unsigned gpu = (unsigned)value, made = 0;
        const char *spec = colon + 1;
        if (parse_ulong(spec, &value)) {
            while (made < value && made < FAKENVML_MAX_MIG) made += make_mig(gpu, made, FAKENVML_DEFAULT_MIG_PROFILE);
        } else {
            char profile[32];
            while (*spec && made < FAKENVML_MAX_MIG) {
                size_t len = strcspn(spec, "/");
                snprintf(profile, sizeof profile, "%.*s", (int)(len < sizeof profile ? len : sizeof profile - 1), spec);
                made += make_mig(gpu, made, profile);
                spec += len + (spec[len] == '/');
            }
        }
        state.mig_enabled[gpu] = 1;
        state.mig_count[gpu] = made;
    }
}

static void read_environment_locked(void) {
    char items[FAKENVML_MAX_LIST_ITEMS][FAKENVML_MAX_NAME_LEN];
    unsigned long value;
    const char *text;

    state.gpu_count = FAKENVML_DEFAULT_GPU_COUNT;
    text = getenv("FAKENVML_GPU_COUNT");
    if (text && parse_ulong(text, &value) && value <= FAKENVML_MAX_GPUS) state.gpu_count = (unsigned)value;

    state.init_error = NVML_SUCCESS;
    text = getenv("FAKENVML_INIT_ERROR");
    if (text && parse_ulong(text, &value)) state.init_error = (int)value;

    state.unsupported_count = split_list(getenv("FAKENVML_UNSUPPORTED"), state.unsupported,
                                         FAKENVML_MAX_LIST_ITEMS);

    for (unsigned i = 0; i < FAKENVML_MAX_GPUS; i++) gpus[i].lost = 0;
    unsigned lost_count = split_list(getenv("FAKENVML_LOST"), items, FAKENVML_MAX_LIST_ITEMS);
    for (unsigned i = 0; i < lost_count; i++)
        if (parse_ulong(items[i], &value) && value < FAKENVML_MAX_GPUS) gpus[value].lost = 1;

    read_latencies_locked();
    read_hang_locked();

    state.unsupported_field_count = 0;
    unsigned field_items = split_list(getenv("FAKENVML_UNSUPPORTED_FIELDS"), items, FAKENVML_MAX_LIST_ITEMS);
    for (unsigned i = 0; i < field_items; i++)
        if (parse_ulong(items[i], &value) && value <= UINT32_MAX)
            state.unsupported_fields[state.unsupported_field_count++] = (unsigned)value;

    for (unsigned i = 0; i < FAKENVML_MAX_GPUS; i++) state.no_gpm[i] = 0;
    unsigned no_gpm_count = split_list(getenv("FAKENVML_NO_GPM"), items, FAKENVML_MAX_LIST_ITEMS);
    for (unsigned i = 0; i < no_gpm_count; i++)
        if (parse_ulong(items[i], &value) && value < FAKENVML_MAX_GPUS) state.no_gpm[value] = 1;

    read_mig_locked();
    text = getenv("FAKENVML_MIG_UNPRIVILEGED");
    state.mig_unprivileged = text != NULL && strcmp(text, "1") == 0;

    text = getenv("FAKENVML_PIDS");
    state.report_own_pid = text == NULL;
    state.pid_count = 0;
    unsigned pid_items = split_list(text, items, FAKENVML_MAX_LIST_ITEMS);
    for (unsigned i = 0; i < pid_items; i++)
        if (parse_ulong(items[i], &value) && value > 0 && value <= UINT32_MAX)
            state.pids[state.pid_count++] = (unsigned)value;
}

static void ensure_configured_locked(void) {
    if (!state.configured) {
        read_environment_locked();
        state.configured = 1;
    }
}

/* True when `entry` names `function` itself, or `function` minus a trailing _vN version suffix. */
static int names_function(const char *entry, const char *function) {
    size_t len = strlen(entry);
    if (strncmp(entry, function, len) != 0) return 0;
    const char *rest = function + len;
    if (*rest == '\0') return 1;
    if (rest[0] != '_' || rest[1] != 'v' || !isdigit((unsigned char)rest[2])) return 0;
    for (rest += 2; *rest; rest++)
        if (!isdigit((unsigned char)*rest)) return 0;
    return 1;
}

static int is_unsupported_locked(const char *function) {
    for (unsigned i = 0; i < state.unsupported_count; i++)
        if (names_function(state.unsupported[i], function)) return 1;
    return 0;
}

static int is_unsupported_field_locked(unsigned field_id) {
    for (unsigned i = 0; i < state.unsupported_field_count; i++)
        if (state.unsupported_fields[i] == field_id) return 1;
    return 0;
}

static unsigned long latency_us_locked(const char *function) {
    for (unsigned i = 0; i < state.latency_count; i++)
        if (names_function(state.latency_names[i], function)) return state.latency_us[i];
    return state.default_latency_us;
}

static void sleep_ns(long long ns) {
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000LL), .tv_nsec = (long)(ns % 1000000000LL)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Takes as long as the configured latency of `function`, as a real driver call would; in steps, so
 * that fakenvml_reset() ends a long one and fakenvml_delayed_calls() can see it. */
static void take_latency(const char *function) {
    pthread_mutex_lock(&state_lock);
    unsigned long us = latency_us_locked(function);
    if (us == 0) {
        pthread_mutex_unlock(&state_lock);
        return;
    }
    unsigned long long resets = state.resets;
    double until = now_s() + (double)us / 1e6;
    state.delayed_calls++;
    for (double left = until - now_s(); left > 0 && state.resets == resets; left = until - now_s()) {
        pthread_mutex_unlock(&state_lock);
        sleep_ns(left * 1e9 < FAKENVML_HANG_POLL_NS ? (long long)(left * 1e9) : FAKENVML_HANG_POLL_NS);
        pthread_mutex_lock(&state_lock);
    }
    state.delayed_calls--;
    pthread_mutex_unlock(&state_lock);
}

static int hang_active_locked(unsigned index) {
    if (state.hang_gpu < 0 || (unsigned)state.hang_gpu != index) return 0;
    if (state.hang_file[0] != '\0') return access(state.hang_file, F_OK) == 0;
    double since = now_s() - state.hang_epoch_s;
    return since >= state.hang_after_s && since < state.hang_after_s + state.hang_s;
}

/* ECC, retired-page and remapped-row queries of the chosen GPU block while its hang lasts. */
static void hang_if_chosen(const gpu_t *gpu) {
    pthread_mutex_lock(&state_lock);
    if (hang_active_locked(gpu->index)) {
        state.hung_calls++;
        while (hang_active_locked(gpu->index)) {
            pthread_mutex_unlock(&state_lock);
            sleep_ns(FAKENVML_HANG_POLL_NS);
            pthread_mutex_lock(&state_lock);
        }
        state.hung_calls--;
    }
    pthread_mutex_unlock(&state_lock);
}

/* ---------------------------------------------------------------- call checks */

#define RETURN_IF_ERROR(expr)                \
    do {                                     \
        nvmlReturn_t rc_ = (expr);           \
        if (rc_ != NVML_SUCCESS) return rc_; \
    } while (0)

static void count_call(void) { __atomic_fetch_add(&calls_served, 1, __ATOMIC_RELAXED); }

static int is_known_device(nvmlDevice_t device, unsigned gpu_count) {
    uintptr_t address = (uintptr_t)device, first = (uintptr_t)&gpus[0];
    return address >= first && address < first + gpu_count * sizeof(gpu_t) &&
           (address - first) % sizeof(gpu_t) == 0;
}

/* The checks every system-level call makes, in the real library's order. */
static nvmlReturn_t begin_call(const char *function) {
    nvmlReturn_t rc = NVML_SUCCESS;
    count_call();
    take_latency(function);
    pthread_mutex_lock(&state_lock);
    if (state.init_count == 0)
        rc = NVML_ERROR_UNINITIALIZED;
    else if (is_unsupported_locked(function))
        rc = NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_unlock(&state_lock);
    return rc;
}

/* The MIG device behind a handle, or NULL when it is none (of a GPU in MIG mode, in range). */
static const mig_t *mig_of_locked(nvmlDevice_t device) {
    uintptr_t address = (uintptr_t)device, first = (uintptr_t)&migs[0][0];
    if (address < first || address >= first + sizeof migs || (address - first) % sizeof(mig_t) != 0)
        return NULL;
    const mig_t *mig = (const mig_t *)device;
    unsigned gpu = (unsigned)((address - first) / sizeof(mig_t)) / FAKENVML_MAX_MIG;
    unsigned slot = (unsigned)((address - first) / sizeof(mig_t)) % FAKENVML_MAX_MIG;
    if (gpu >= state.gpu_count || !state.mig_enabled[gpu] || slot >= state.mig_count[gpu]) return NULL;
    return mig;
}

/* The checks every call on a device handle makes: initialised, known handle, not lost, supported. A MIG
 * device handle is accepted (*mig set, *gpu its parent) only where `mig_ok`; elsewhere it is
 * NVML_ERROR_NOT_SUPPORTED, as most device queries are on a MIG device. */
static nvmlReturn_t begin_call_on(const char *function, nvmlDevice_t device, int mig_ok, const gpu_t **gpu,
                                  const mig_t **mig) {
    nvmlReturn_t rc = NVML_SUCCESS;
    count_call();
    take_latency(function);
    pthread_mutex_lock(&state_lock);
    const mig_t *instance = state.init_count == 0 ? NULL : mig_of_locked(device);
    nvmlDevice_t parent = instance != NULL ? &gpus[instance->gpu_index] : device;
    if (state.init_count == 0)
        rc = NVML_ERROR_UNINITIALIZED;
    else if (!is_known_device(parent, state.gpu_count))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (parent->lost)
        rc = NVML_ERROR_GPU_IS_LOST;
    else if (instance != NULL && !mig_ok)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else if (is_unsupported_locked(function))
        rc = NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_unlock(&state_lock);
    *gpu = parent;
    if (mig != NULL) *mig = instance;
    return rc;
}

static nvmlReturn_t begin_device_call(const char *function, nvmlDevice_t device, const gpu_t **gpu) {
    return begin_call_on(function, device, 0, gpu, NULL);
}

/* For the functions that answer on a MIG device handle too; *mig is NULL for a full GPU's handle. */
static nvmlReturn_t begin_any_device_call(const char *function, nvmlDevice_t device, const gpu_t **gpu,
                                          const mig_t **mig) {
    return begin_call_on(function, device, 1, gpu, mig);
}

static int mig_enabled(const gpu_t *gpu) {
    pthread_mutex_lock(&state_lock);
    int enabled = state.mig_enabled[gpu->index];
    pthread_mutex_unlock(&state_lock);
    return enabled;
}

/* A caller without privileges gets no aggregate process list from a GPU in MIG mode, only per MIG device. */
static int refuses_aggregate_processes(const gpu_t *gpu, const mig_t *mig) {
    pthread_mutex_lock(&state_lock);
    int refuses = mig == NULL && state.mig_enabled[gpu->index] && state.mig_unprivileged;
    pthread_mutex_unlock(&state_lock);
    return refuses;
}

static unsigned mig_count(const gpu_t *gpu) {
    pthread_mutex_lock(&state_lock);
    unsigned count = state.mig_enabled[gpu->index] ? state.mig_count[gpu->index] : 0;
    pthread_mutex_unlock(&state_lock);
    return count;
}

/* What a MIG device's memory holds: (slot + 1) GiB of its total, so a test can predict it. */
static unsigned long long mig_used_bytes(const mig_t *mig) { return (mig->slot + 1ULL) * GIB; }

static nvmlReturn_t copy_string(char *out, unsigned int length, const char *value) {
    if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (length < strlen(value) + 1) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(out, value, strlen(value) + 1);
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- init, shutdown, errors */

static nvmlReturn_t init(void) {
    nvmlReturn_t rc;
    count_call();
    pthread_mutex_lock(&state_lock);
    ensure_configured_locked();
    rc = (nvmlReturn_t)state.init_error;
    if (rc == NVML_SUCCESS) state.init_count++;
    pthread_mutex_unlock(&state_lock);
    return rc;
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    (void)flags;
    return init();
}

nvmlReturn_t nvmlInit_v2(void) { return init(); }

nvmlReturn_t nvmlInit(void) { return init(); }

nvmlReturn_t nvmlShutdown(void) {
    nvmlReturn_t rc = NVML_SUCCESS;
    count_call();
    pthread_mutex_lock(&state_lock);
    if (state.init_count == 0)
        rc = NVML_ERROR_UNINITIALIZED;
    else if (--state.init_count == 0)
        pthread_cond_broadcast(&events_changed);
    pthread_mutex_unlock(&state_lock);
    return rc;
}

const char *nvmlErrorString(nvmlReturn_t result) {
    count_call();
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_ALREADY_INITIALIZED: return "Already Initialized";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_INSUFFICIENT_POWER: return "Insufficient External Power";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_IRQ_ISSUE: return "Interrupt Request Issue";
    case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_CORRUPTED_INFOROM: return "Corrupted infoROM";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED: return "GPU requires restart";
    case NVML_ERROR_OPERATING_SYSTEM: return "The operating system has blocked the request.";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
    case NVML_ERROR_IN_USE: return "In use by another client";
    case NVML_ERROR_MEMORY: return "Insufficient Memory";
    case NVML_ERROR_NO_DATA: return "No data";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
    }
}

/* ---------------------------------------------------------------- system queries */

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    RETURN_IF_ERROR(begin_call(__func__));
    return copy_string(version, length, DRIVER_VERSION);
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
    RETURN_IF_ERROR(begin_call(__func__));
    return copy_string(version, length, NVML_VERSION);
}

static nvmlReturn_t cuda_driver_version(const char *function, int *version) {
    RETURN_IF_ERROR(begin_call(function));
    if (version == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *version = CUDA_DRIVER_VERSION;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion) {
    return cuda_driver_version(__func__, cudaDriverVersion);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion) {
    return cuda_driver_version(__func__, cudaDriverVersion);
}

/* ---------------------------------------------------------------- device enumeration */

static nvmlReturn_t device_count(const char *function, unsigned int *count) {
    RETURN_IF_ERROR(begin_call(function));
    if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&state_lock);
    *count = state.gpu_count;
    pthread_mutex_unlock(&state_lock);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) { return device_count(__func__, deviceCount); }

nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount) { return device_count(__func__, deviceCount); }

static nvmlReturn_t handle_by_index(const char *function, unsigned int index, nvmlDevice_t *device) {
    nvmlReturn_t rc = NVML_SUCCESS;
    RETURN_IF_ERROR(begin_call(function));
    if (device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&state_lock);
    if (index >= state.gpu_count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (gpus[index].lost)
        rc = NVML_ERROR_GPU_IS_LOST;
    pthread_mutex_unlock(&state_lock);
    if (rc == NVML_SUCCESS) *device = &gpus[index];
    return rc;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    return handle_by_index(__func__, index, device);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device) {
    return handle_by_index(__func__, index, device);
}

nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device) {
    RETURN_IF_ERROR(begin_call(__func__));
    if (uuid == NULL || device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&state_lock);
    unsigned count = state.gpu_count;
    pthread_mutex_unlock(&state_lock);
    for (unsigned i = 0; i < count; i++) {
        if (strcmp(gpus[i].uuid, uuid) == 0) {
            *device = &gpus[i];
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (index == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *index = gpu->index;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t device, unsigned int *minorNumber) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (minorNumber == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *minorNumber = gpu->index;
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- static device information */

/* A MIG device's name is its parent's with " MIG <profile>", as the driver names it. */
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    const gpu_t *gpu;
    const mig_t *mig;
    char text[FAKENVML_MAX_NAME_LEN];
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    if (mig == NULL) return copy_string(name, length, GPU_NAME);
    snprintf(text, sizeof text, "%s MIG %s", GPU_NAME, mig->profile);
    return copy_string(name, length, text);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    const gpu_t *gpu;
    const mig_t *mig;
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    return copy_string(uuid, length, mig != NULL ? mig->uuid : gpu->uuid);
}

nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    return copy_string(serial, length, gpu->serial);
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (pci == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof *pci);
    memcpy(pci->busIdLegacy, gpu->bus_id_legacy, sizeof pci->busIdLegacy);
    pci->domain = 0;
    pci->bus = gpu->pci_bus;
    pci->device = 0;
    pci->pciDeviceId = PCI_DEVICE_ID;
    pci->pciSubSystemId = PCI_SUBSYSTEM_ID;
    memcpy(pci->busId, gpu->bus_id, sizeof pci->busId);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (major == NULL || minor == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *major = 9;
    *minor = 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (clock == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM: *clock = MAX_GRAPHICS_CLOCK_MHZ; return NVML_SUCCESS;
    case NVML_CLOCK_MEM: *clock = MAX_MEM_CLOCK_MHZ; return NVML_SUCCESS;
    case NVML_CLOCK_VIDEO: *clock = MAX_VIDEO_CLOCK_MHZ; return NVML_SUCCESS;
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
}

static nvmlReturn_t pcie_link_value(const char *function, nvmlDevice_t device, unsigned int *out,
                                    unsigned value) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(function, device, &gpu));
    if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *out = value;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *maxLinkGen) {
    return pcie_link_value(__func__, device, maxLinkGen, PCIE_MAX_GENERATION);
}

nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *maxLinkWidth) {
    return pcie_link_value(__func__, device, maxLinkWidth, PCIE_MAX_WIDTH);
}

nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int *currLinkGen) {
    return pcie_link_value(__func__, device, currLinkGen, PCIE_MAX_GENERATION);
}

nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *currLinkWidth) {
    return pcie_link_value(__func__, device, currLinkWidth, PCIE_MAX_WIDTH);
}

static nvmlReturn_t fixed_uint(const char *function, nvmlDevice_t device, unsigned int *out, unsigned value) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(function, device, &gpu));
    if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *out = value;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, nvmlEnableState_t *mode) {
    return fixed_uint(__func__, device, (unsigned int *)mode, NVML_FEATURE_ENABLED);
}

nvmlReturn_t nvmlDeviceGetComputeMode(nvmlDevice_t device, nvmlComputeMode_t *mode) {
    return fixed_uint(__func__, device, (unsigned int *)mode, NVML_COMPUTEMODE_DEFAULT);
}

nvmlReturn_t nvmlDeviceGetDisplayMode(nvmlDevice_t device, nvmlEnableState_t *display) {
    return fixed_uint(__func__, device, (unsigned int *)display, NVML_FEATURE_DISABLED);
}

nvmlReturn_t nvmlDeviceGetDisplayActive(nvmlDevice_t device, nvmlEnableState_t *isActive) {
    return fixed_uint(__func__, device, (unsigned int *)isActive, NVML_FEATURE_DISABLED);
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit) {
    return fixed_uint(__func__, device, limit, POWER_LIMIT_MW);
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit) {
    return fixed_uint(__func__, device, limit, POWER_LIMIT_MW);
}

nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, nvmlEnableState_t *isPending) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    hang_if_chosen(gpu);
    if (isPending == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *isPending = NVML_FEATURE_DISABLED;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, nvmlEnableState_t *current,
                                  nvmlEnableState_t *pending) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (current == NULL || pending == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *current = NVML_FEATURE_ENABLED;
    *pending = NVML_FEATURE_ENABLED;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode, unsigned int *pendingMode) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (currentMode == NULL || pendingMode == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *currentMode = *pendingMode = mig_enabled(gpu) ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- MIG devices */

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
    return fixed_uint(__func__, device, count, FAKENVML_MAX_MIG);
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index, nvmlDevice_t *migDevice) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (migDevice == NULL || index >= FAKENVML_MAX_MIG || !mig_enabled(gpu)) return NVML_ERROR_INVALID_ARGUMENT;
    if (index >= mig_count(gpu)) return NVML_ERROR_NOT_FOUND;
    *migDevice = (nvmlDevice_t)&migs[gpu->index][index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t device, unsigned int *isMigDevice) {
    const gpu_t *gpu;
    const mig_t *mig;
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    if (isMigDevice == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *isMigDevice = mig != NULL;
    return NVML_SUCCESS;
}

static nvmlReturn_t mig_id(const char *function, nvmlDevice_t device, unsigned int *id, int gpu_instance) {
    const gpu_t *gpu;
    const mig_t *mig;
    RETURN_IF_ERROR(begin_any_device_call(function, device, &gpu, &mig));
    if (id == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig == NULL) return NVML_ERROR_NOT_SUPPORTED;
    *id = gpu_instance ? mig->gpu_instance_id : mig->compute_instance_id;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int *id) { return mig_id(__func__, device, id, 1); }

nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t device, unsigned int *id) {
    return mig_id(__func__, device, id, 0);
}

nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t migDevice, nvmlDevice_t *device) {
    const gpu_t *gpu;
    const mig_t *mig;
    RETURN_IF_ERROR(begin_any_device_call(__func__, migDevice, &gpu, &mig));
    if (device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig == NULL) return NVML_ERROR_NOT_SUPPORTED;
    *device = (nvmlDevice_t)gpu;
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- live metrics */

static void fill_memory(const gpu_t *gpu, unsigned long long *app_used, unsigned long long *free_bytes) {
    activity_t a = current_activity(gpu);
    *app_used = app_memory_bytes(gpu, &a);
    *free_bytes = TOTAL_MEMORY_BYTES - RESERVED_MEMORY_BYTES - *app_used;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    const gpu_t *gpu;
    const mig_t *mig;
    unsigned long long app_used, free_bytes;
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    if (memory == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig != NULL) {
        memory->total = mig->memory_bytes;
        memory->used = mig_used_bytes(mig);
        memory->free = mig->memory_bytes - memory->used;
        return NVML_SUCCESS;
    }
    fill_memory(gpu, &app_used, &free_bytes);
    memory->total = TOTAL_MEMORY_BYTES;
    memory->used = RESERVED_MEMORY_BYTES + app_used;
    memory->free = free_bytes;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    const gpu_t *gpu;
    const mig_t *mig;
    unsigned long long app_used, free_bytes;
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    if (memory == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (memory->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (mig != NULL) {
        memory->total = mig->memory_bytes;
        memory->reserved = 0;
        memory->used = mig_used_bytes(mig);
        memory->free = mig->memory_bytes - memory->used;
        return NVML_SUCCESS;
    }
    fill_memory(gpu, &app_used, &free_bytes);
    memory->total = TOTAL_MEMORY_BYTES;
    memory->reserved = RESERVED_MEMORY_BYTES;
    memory->used = app_used;
    memory->free = free_bytes;
    return NVML_SUCCESS;
}

/* Not supported on a MIG device nor on a GPU in MIG mode, as on the real driver. */
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (utilization == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig_enabled(gpu)) return NVML_ERROR_NOT_SUPPORTED;
    activity_t a = current_activity(gpu);
    utilization->gpu = (unsigned)lround(100.0 * a.load);
    utilization->memory = (unsigned)lround(60.0 * a.load);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType,
                                      unsigned int *temp) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (temp == NULL || sensorType != NVML_TEMPERATURE_GPU) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    *temp = temperature_c(gpu, &a);
    return NVML_SUCCESS;
}

/* A counter growing at `per_s` units per second since the library loaded, at Unix time `at_us`. */
static unsigned long long counter_at(double per_s, long long at_us) {
    return (unsigned long long)(per_s * (double)(at_us - load_realtime_us) / 1e6);
}

static void fill_link_counter(const gpu_t *gpu, long long at_us, double per_link_kib_s,
                              nvmlFieldValue_t *field) {
    if (field->scopeId != NVML_SCOPE_ALL_LINKS && field->scopeId >= FAKENVML_NVLINKS) {
        field->nvmlReturn = NVML_ERROR_INVALID_ARGUMENT;
        return;
    }
    double links = field->scopeId == NVML_SCOPE_ALL_LINKS ? FAKENVML_NVLINKS : 1;
    field->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
    field->value.ullVal = counter_at(links * per_link_kib_s * (gpu->index + 1), at_us);
}

static void fill_field_value(const gpu_t *gpu, double t, long long at_us, nvmlFieldValue_t *field) {
    activity_t a = activity(gpu, t);
    field->nvmlReturn = NVML_SUCCESS;
    switch (field->fieldId) {
    case NVML_FI_DEV_MEMORY_TEMP:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        field->value.uiVal = temperature_c(gpu, &a) + 2;
        break;
    case NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
        field->value.ullVal = energy_mj(gpu, t);
        break;
    case NVML_FI_DEV_PCIE_REPLAY_COUNTER:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
        field->value.ullVal = gpu->index;
        break;
    case NVML_FI_DEV_NVLINK_LINK_COUNT:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        field->value.uiVal = FAKENVML_NVLINKS;
        break;
    case NVML_FI_DEV_PCIE_COUNT_TX_BYTES:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
        field->value.ullVal = counter_at(100e6 * (gpu->index + 1), at_us);
        break;
    case NVML_FI_DEV_PCIE_COUNT_RX_BYTES:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
        field->value.ullVal = counter_at(250e6 * (gpu->index + 1), at_us);
        break;
    case NVML_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL:
    case NVML_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL:
    case NVML_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL:
    case NVML_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL:
        field->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
        field->value.ullVal = 10ULL * gpu->index
            + (field->fieldId - NVML_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL) / 7;
        break;
    case NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX: fill_link_counter(gpu, at_us, 1000.0, field); break;
    case NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX: fill_link_counter(gpu, at_us, 2000.0, field); break;
    default:
        field->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        break;
    }
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount, nvmlFieldValue_t *values) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (values == NULL || valuesCount < 0) return NVML_ERROR_INVALID_ARGUMENT;
    double t = now_s();
    long long timestamp = realtime_us();
    for (int i = 0; i < valuesCount; i++) {
        values[i].timestamp = timestamp;
        values[i].latencyUsec = 0;
        pthread_mutex_lock(&state_lock);
        int unsupported = is_unsupported_field_locked(values[i].fieldId);
        pthread_mutex_unlock(&state_lock);
        if (unsupported)
            values[i].nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        else
            fill_field_value(gpu, t, timestamp, &values[i]);
    }
    return NVML_SUCCESS;
}

/* vGPU licensing, nvml.h's nvmlGridLicensableFeatures_t (v4). Bare metal has none: NOT_SUPPORTED, unless
 * FAKENVML_VGPU_LICENSE_STATE names the NVML_GRID_LICENSE_STATE_* of a vGPU feature on every GPU. */
typedef struct {
    unsigned int year;
    unsigned short month, day, hour, min, sec;
    unsigned char status;
} nvmlGridLicenseExpiry_t;

typedef struct {
    unsigned int featureCode;
    unsigned int featureState;
    char licenseInfo[128];
    char productName[128];
    unsigned int featureEnabled;
    nvmlGridLicenseExpiry_t licenseExpiry;
} nvmlGridLicensableFeature_t;

typedef struct {
    int isGridLicenseSupported;
    unsigned int licensableFeaturesCount;
    nvmlGridLicensableFeature_t gridLicensableFeatures[3];
} nvmlGridLicensableFeatures_t;

_Static_assert(sizeof(nvmlGridLicensableFeatures_t) == 860, "pynvml c_nvmlGridLicensableFeatures_v4_t");

nvmlReturn_t nvmlDeviceGetGridLicensableFeatures_v4(nvmlDevice_t device, nvmlGridLicensableFeatures_t *features) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (features == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    const char *text = getenv("FAKENVML_VGPU_LICENSE_STATE"); /* read at each call */
    unsigned long state_code;
    if (text == NULL || !parse_ulong(text, &state_code)) return NVML_ERROR_NOT_SUPPORTED;
    memset(features, 0, sizeof(*features));
    features->isGridLicenseSupported = 1;
    features->licensableFeaturesCount = 1;
    features->gridLicensableFeatures[0].featureCode = 1; /* NVML_GRID_LICENSE_FEATURE_CODE_VGPU */
    features->gridLicensableFeatures[0].featureState = (unsigned int)state_code;
    features->gridLicensableFeatures[0].featureEnabled = 1;
    snprintf(features->gridLicensableFeatures[0].productName, 128, "NVIDIA Virtual Compute Server");
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (power == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    *power = power_mw(&a);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (energy == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *energy = energy_mj(gpu, now_s());
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (speed == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    *speed = (unsigned)lround(25.0 + 60.0 * a.load);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int *clock) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (clock == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM: *clock = graphics_clock_mhz(&a); return NVML_SUCCESS;
    case NVML_CLOCK_MEM: *clock = MAX_MEM_CLOCK_MHZ; return NVML_SUCCESS;
    case NVML_CLOCK_VIDEO: *clock = (unsigned)lround(1000.0 + 700.0 * a.load); return NVML_SUCCESS;
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
}

static nvmlReturn_t codec_utilization(const char *function, nvmlDevice_t device, unsigned int *utilization,
                                      unsigned int *samplingPeriodUs, double scale) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(function, device, &gpu));
    if (utilization == NULL || samplingPeriodUs == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    *utilization = (unsigned)lround(scale * a.codec_load * a.load);
    *samplingPeriodUs = CODEC_SAMPLING_PERIOD_US;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                             unsigned int *samplingPeriodUs) {
    return codec_utilization(__func__, device, utilization, samplingPeriodUs, 20.0);
}

nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                             unsigned int *samplingPeriodUs) {
    return codec_utilization(__func__, device, utilization, samplingPeriodUs, 35.0);
}

static nvmlReturn_t performance_state(const char *function, nvmlDevice_t device, nvmlPstates_t *pState) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(function, device, &gpu));
    if (pState == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *pState = NVML_PSTATE_0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, nvmlPstates_t *pState) {
    return performance_state(__func__, device, pState);
}

nvmlReturn_t nvmlDeviceGetPowerState(nvmlDevice_t device, nvmlPstates_t *pState) {
    return performance_state(__func__, device, pState);
}

static nvmlReturn_t clocks_event_reasons(const char *function, nvmlDevice_t device,
                                         unsigned long long *reasons) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(function, device, &gpu));
    if (reasons == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    *reasons = 0;
    if (a.load < 0.25) *reasons |= nvmlClocksEventReasonGpuIdle;
    if (power_mw(&a) > POWER_LIMIT_MW / 100 * 93) *reasons |= nvmlClocksEventReasonSwPowerCap;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                    unsigned long long *clocksEventReasons) {
    return clocks_event_reasons(__func__, device, clocksEventReasons);
}

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                       unsigned long long *clocksThrottleReasons) {
    return clocks_event_reasons(__func__, device, clocksThrottleReasons);
}

nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, nvmlPcieUtilCounter_t counter,
                                         unsigned int *value) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (value == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    activity_t a = current_activity(gpu);
    switch (counter) {
    case NVML_PCIE_UTIL_TX_BYTES:
        *value = (unsigned)lround(100000.0 + 4000000.0 * a.load);
        return NVML_SUCCESS;
    case NVML_PCIE_UTIL_RX_BYTES:
        *value = (unsigned)lround(200000.0 + 12000000.0 * a.load * a.memory_load);
        return NVML_SUCCESS;
    default: return NVML_ERROR_INVALID_ARGUMENT;
    }
}

nvmlReturn_t nvmlDeviceGetViolationStatus(nvmlDevice_t device, nvmlPerfPolicyType_t perfPolicyType,
                                          nvmlViolationTime_t *violTime) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (violTime == NULL || (unsigned)perfPolicyType >= NVML_PERF_POLICY_COUNT) return NVML_ERROR_INVALID_ARGUMENT;
    violTime->referenceTime = (unsigned long long)realtime_us();
    violTime->violationTime = 1000000000ULL * (gpu->index + 1) * ((unsigned)perfPolicyType + 1);
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- memory health */

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
                                         nvmlEccCounterType_t counterType, unsigned long long *eccCounts) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    hang_if_chosen(gpu);
    if (eccCounts == NULL || (unsigned)errorType > NVML_MEMORY_ERROR_TYPE_UNCORRECTED ||
        (unsigned)counterType > NVML_AGGREGATE_ECC)
        return NVML_ERROR_INVALID_ARGUMENT;
    int corrected = errorType == NVML_MEMORY_ERROR_TYPE_CORRECTED;
    *eccCounts = corrected && counterType == NVML_AGGREGATE_ECC ? 2ULL * gpu->index : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, nvmlPageRetirementCause_t cause,
                                       unsigned int *pageCount, unsigned long long *addresses) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    hang_if_chosen(gpu);
    (void)addresses;
    if (pageCount == NULL || (unsigned)cause > NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR)
        return NVML_ERROR_INVALID_ARGUMENT;
    *pageCount = 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows, unsigned int *uncRows,
                                       unsigned int *isPending, unsigned int *failureOccurred) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    hang_if_chosen(gpu);
    if (corrRows == NULL || uncRows == NULL || isPending == NULL || failureOccurred == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    *corrRows = gpu->index;
    *uncRows = 0;
    *isPending = 0;
    *failureOccurred = 0;
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- processes */

/* Follows NVML's two-call protocol: too small a buffer (or none) gets the needed count and
 * NVML_ERROR_INSUFFICIENT_SIZE; an empty list is NVML_SUCCESS with a count of 0. */
static nvmlReturn_t report_processes(const unsigned *pids, unsigned pid_count, unsigned long long bytes_each,
                                     const mig_t *const *instance_of, unsigned int *infoCount,
                                     nvmlProcessInfo_t *infos) {
    if (infoCount == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (pid_count == 0) {
        *infoCount = 0;
        return NVML_SUCCESS;
    }
    if (infos == NULL || *infoCount < pid_count) {
        *infoCount = pid_count;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned i = 0; i < pid_count; i++) {
        infos[i].pid = pids[i];
        infos[i].usedGpuMemory = bytes_each;
        const mig_t *mig = instance_of != NULL ? instance_of[i] : NULL;
        if (mig != NULL) infos[i].usedGpuMemory = mig_used_bytes(mig) / 10 * 9 / MIB * MIB;
        infos[i].gpuInstanceId = mig != NULL ? mig->gpu_instance_id : NVML_VALUE_NOT_AVAILABLE_UINT;
        infos[i].computeInstanceId = mig != NULL ? mig->compute_instance_id : NVML_VALUE_NOT_AVAILABLE_UINT;
    }
    *infoCount = pid_count;
    return NVML_SUCCESS;
}

/* On a GPU in MIG mode the process at position j runs on MIG device j % count (none without devices);
 * the parent lists every process with its instance's ids, a MIG device only its own. */
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
    const gpu_t *gpu;
    const mig_t *mig;
    unsigned all[FAKENVML_MAX_LIST_ITEMS], pids[FAKENVML_MAX_LIST_ITEMS], all_count, pid_count = 0;
    const mig_t *instance_of[FAKENVML_MAX_LIST_ITEMS];
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    if (refuses_aggregate_processes(gpu, mig)) return NVML_ERROR_NO_PERMISSION;
    pthread_mutex_lock(&state_lock);
    if (state.report_own_pid) {
        all[0] = (unsigned)getpid();
        all_count = 1;
    } else {
        all_count = state.pid_count;
        memcpy(all, state.pids, all_count * sizeof all[0]);
    }
    pthread_mutex_unlock(&state_lock);

    int in_mig_mode = mig_enabled(gpu);
    unsigned instances = mig_count(gpu);
    for (unsigned j = 0; j < all_count; j++) {
        const mig_t *runs_on = in_mig_mode && instances > 0 ? &migs[gpu->index][j % instances] : NULL;
        if (in_mig_mode && (runs_on == NULL || (mig != NULL && runs_on != mig))) continue;
        instance_of[pid_count] = runs_on;
        pids[pid_count++] = all[j];
    }
    activity_t a = current_activity(gpu);
    unsigned long long bytes_each = 0;
    if (pid_count > 0) bytes_each = app_memory_bytes(gpu, &a) / 10 * 9 / pid_count / MIB * MIB;
    return report_processes(pids, pid_count, bytes_each, instance_of, infoCount, infos);
}

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                      nvmlProcessInfo_t *infos) {
    const gpu_t *gpu;
    const mig_t *mig;
    RETURN_IF_ERROR(begin_any_device_call(__func__, device, &gpu, &mig));
    if (refuses_aggregate_processes(gpu, mig)) return NVML_ERROR_NO_PERMISSION;
    return report_processes(NULL, 0, 0, NULL, infoCount, infos);
}

/* ---------------------------------------------------------------- GPM (profiling metrics) */

#define NVML_GPM_METRICS_GET_VERSION 1U
#define NVML_GPM_SUPPORT_VERSION 1U
#define FAKENVML_GPM_MIN_INTERVAL_US 100000LL
#define FAKENVML_GPM_SAMPLE_MAGIC 0x47504d53U

typedef struct {
    const char *shortName;
    const char *longName;
    const char *unit;
} nvmlGpmMetricInfo_t;

typedef struct {
    unsigned int metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    nvmlGpmMetricInfo_t metricInfo;
} nvmlGpmMetric_t;

typedef struct nvmlGpmSample_st {
    unsigned magic;
    int taken;
    unsigned gpu_index;
    int gpu_instance_id; /* -1: the whole GPU (nvmlGpmSampleGet) */
    long long at_us;
} *nvmlGpmSample_t;

/* Only the header: pynvml's metrics array is as long as its NVML_GPM_METRIC_MAX, which changes between
 * releases, and only the first numMetrics entries are read or written. */
typedef struct {
    unsigned int version;
    unsigned int numMetrics;
    nvmlGpmSample_t sample1;
    nvmlGpmSample_t sample2;
    nvmlGpmMetric_t metrics[];
} nvmlGpmMetricsGet_t;

typedef struct {
    unsigned int version;
    unsigned int isSupportedDevice;
} nvmlGpmSupport_t;

_Static_assert(sizeof(nvmlGpmMetric_t) == 40 && offsetof(nvmlGpmMetric_t, value) == 8,
               "pynvml c_nvmlGpmMetric_t");
_Static_assert(offsetof(nvmlGpmMetricsGet_t, metrics) == 24, "pynvml c_nvmlGpmMetricsGet_t");

/* metric id, value for GPU 0, added per GPU index (percent metrics: + i; byte rates: * (i+1)). */
static const struct {
    unsigned id;
    double base;
    int scales_with_index;
} gpm_metrics[] = {
    {1, 70.0, 0},   /* GRAPHICS_UTIL */
    {2, 60.0, 0},   /* SM_UTIL */
    {3, 40.0, 0},   /* SM_OCCUPANCY */
    {4, 15.0, 0},   /* INTEGER_UTIL */
    {5, 30.0, 0},   /* ANY_TENSOR_UTIL */
    {6, 2.0, 0},    /* DFMA_TENSOR_UTIL */
    {7, 20.0, 0},   /* HMMA_TENSOR_UTIL */
    {9, 5.0, 0},    /* IMMA_TENSOR_UTIL */
    {10, 50.0, 0},  /* DRAM_BW_UTIL */
    {11, 3.0, 0},   /* FP64_UTIL */
    {12, 25.0, 0},  /* FP32_UTIL */
    {13, 10.0, 0},  /* FP16_UTIL */
    {20, 100.0, 1}, /* PCIE_TX_PER_SEC, MiB/s */
    {21, 250.0, 1}, /* PCIE_RX_PER_SEC */
    {60, 2000.0, 1}, /* NVLINK_TOTAL_RX_PER_SEC */
    {61, 1000.0, 1}, /* NVLINK_TOTAL_TX_PER_SEC */
};

static int gpm_supported(const gpu_t *gpu) {
    pthread_mutex_lock(&state_lock);
    int supported = !state.no_gpm[gpu->index];
    pthread_mutex_unlock(&state_lock);
    return supported;
}

nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t device, nvmlGpmSupport_t *support) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (support == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (support->version != NVML_GPM_SUPPORT_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    support->isSupportedDevice = (unsigned)gpm_supported(gpu);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *sample) {
    RETURN_IF_ERROR(begin_call(__func__));
    if (sample == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *sample = calloc(1, sizeof **sample);
    if (*sample == NULL) return NVML_ERROR_MEMORY;
    (*sample)->magic = FAKENVML_GPM_SAMPLE_MAGIC;
    __atomic_fetch_add(&gpm_samples_live, 1, __ATOMIC_RELAXED);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t sample) {
    RETURN_IF_ERROR(begin_call(__func__));
    if (sample == NULL || sample->magic != FAKENVML_GPM_SAMPLE_MAGIC) return NVML_ERROR_INVALID_ARGUMENT;
    sample->magic = 0;
    free(sample);
    __atomic_fetch_sub(&gpm_samples_live, 1, __ATOMIC_RELAXED);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t device, nvmlGpmSample_t sample) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (sample == NULL || sample->magic != FAKENVML_GPM_SAMPLE_MAGIC) return NVML_ERROR_INVALID_ARGUMENT;
    if (!gpm_supported(gpu)) return NVML_ERROR_NOT_SUPPORTED;
    sample->taken = 1;
    sample->gpu_index = gpu->index;
    sample->gpu_instance_id = -1;
    sample->at_us = (long long)(now_s() * 1e6);
    return NVML_SUCCESS;
}

/* A sample of one GPU instance of a GPU in MIG mode; `device` is the parent's handle. */
nvmlReturn_t nvmlGpmMigSampleGet(nvmlDevice_t device, unsigned int gpuInstanceId, nvmlGpmSample_t sample) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (sample == NULL || sample->magic != FAKENVML_GPM_SAMPLE_MAGIC || !mig_enabled(gpu))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!gpm_supported(gpu)) return NVML_ERROR_NOT_SUPPORTED;
    int found = 0;
    for (unsigned slot = 0, count = mig_count(gpu); slot < count; slot++)
        found |= migs[gpu->index][slot].gpu_instance_id == gpuInstanceId;
    if (!found) return NVML_ERROR_NOT_FOUND;
    sample->taken = 1;
    sample->gpu_index = gpu->index;
    sample->gpu_instance_id = (int)gpuInstanceId;
    sample->at_us = (long long)(now_s() * 1e6);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *request) {
    RETURN_IF_ERROR(begin_call(__func__));
    if (request == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (request->version != NVML_GPM_METRICS_GET_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    nvmlGpmSample_t first = request->sample1, second = request->sample2;
    if (first == NULL || second == NULL || first->magic != FAKENVML_GPM_SAMPLE_MAGIC ||
        second->magic != FAKENVML_GPM_SAMPLE_MAGIC || !first->taken || !second->taken ||
        first->gpu_index != second->gpu_index || first->gpu_instance_id != second->gpu_instance_id ||
        second->at_us - first->at_us < FAKENVML_GPM_MIN_INTERVAL_US)
        return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&state_lock);
    int lost = gpus[first->gpu_index].lost;
    pthread_mutex_unlock(&state_lock);
    if (lost) return NVML_ERROR_GPU_IS_LOST;
    unsigned index = first->gpu_index;
    int instance = first->gpu_instance_id;
    for (unsigned m = 0; m < request->numMetrics; m++) {
        nvmlGpmMetric_t *metric = &request->metrics[m];
        metric->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        metric->value = 0.0;
        metric->metricInfo.shortName = metric->metricInfo.longName = metric->metricInfo.unit = NULL;
        for (size_t k = 0; k < sizeof gpm_metrics / sizeof gpm_metrics[0]; k++) {
            if (gpm_metrics[k].id != metric->metricId) continue;
            if (instance >= 0) { /* a GPU instance: percent metrics base/2 + i + its id; no byte rates */
                if (gpm_metrics[k].scales_with_index) break;
                metric->nvmlReturn = NVML_SUCCESS;
                metric->value = gpm_metrics[k].base / 2 + index + (unsigned)instance;
                break;
            }
            metric->nvmlReturn = NVML_SUCCESS;
            metric->value = gpm_metrics[k].scales_with_index ? gpm_metrics[k].base * (index + 1)
                                                             : gpm_metrics[k].base + index;
        }
    }
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- per-process utilization */

#define PROCESS_SAMPLE_PERIOD_US 166667LL
#define PROCESS_SAMPLE_BUFFER 12
#define ProcessesUtilizationInfo_v1 0x01000018U

typedef struct {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil;
    unsigned int memUtil;
    unsigned int encUtil;
    unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct {
    unsigned long long timeStamp;
    unsigned int pid;
    unsigned int smUtil;
    unsigned int memUtil;
    unsigned int encUtil;
    unsigned int decUtil;
    unsigned int jpgUtil;
    unsigned int ofaUtil;
} nvmlProcessUtilizationInfo_v1_t;

typedef struct {
    unsigned int version;
    unsigned int processSamplesCount;
    unsigned long long lastSeenTimeStamp;
    nvmlProcessUtilizationInfo_v1_t *procUtilArray;
} nvmlProcessesUtilizationInfo_t;

_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "pynvml c_nvmlProcessUtilizationSample_t");
_Static_assert(sizeof(nvmlProcessUtilizationInfo_v1_t) == 40, "pynvml c_nvmlProcessUtilizationInfo_v1_t");
_Static_assert(sizeof(nvmlProcessesUtilizationInfo_t) == 24, "pynvml c_nvmlProcessesUtilizationInfo_v1_t");

typedef struct {
    unsigned pid;
    unsigned long long at_us;
    unsigned sm, mem, enc, dec;
} process_sample_t;

/* The samples newer than `since` of every listed process, oldest first; returns how many. */
static unsigned process_samples(const gpu_t *gpu, unsigned long long since, process_sample_t *out) {
    unsigned pids[FAKENVML_MAX_LIST_ITEMS], pid_count;
    pthread_mutex_lock(&state_lock);
    if (state.report_own_pid) {
        pids[0] = (unsigned)getpid();
        pid_count = 1;
    } else {
        pid_count = state.pid_count;
        memcpy(pids, state.pids, pid_count * sizeof pids[0]);
    }
    pthread_mutex_unlock(&state_lock);
    long long newest = realtime_us() / PROCESS_SAMPLE_PERIOD_US * PROCESS_SAMPLE_PERIOD_US;
    unsigned count = 0;
    for (int k = PROCESS_SAMPLE_BUFFER - 1; k >= 0; k--) {
        unsigned long long at = (unsigned long long)(newest - k * PROCESS_SAMPLE_PERIOD_US);
        if (at <= since) continue;
        for (unsigned j = 0; j < pid_count; j++) {
            process_sample_t *sample = &out[count++];
            sample->pid = pids[j];
            sample->at_us = at;
            sample->sm = 10 * (j + 1) + gpu->index;
            sample->mem = 5 * (j + 1) + gpu->index;
            sample->enc = j;
            sample->dec = 2 * j;
        }
    }
    return count;
}

#define MAX_PROCESS_SAMPLES (PROCESS_SAMPLE_BUFFER * FAKENVML_MAX_LIST_ITEMS)

nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device, nvmlProcessUtilizationSample_t *utilization,
                                             unsigned int *processSamplesCount,
                                             unsigned long long lastSeenTimeStamp) {
    const gpu_t *gpu;
    static __thread process_sample_t samples[MAX_PROCESS_SAMPLES];
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (processSamplesCount == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (mig_enabled(gpu)) return NVML_ERROR_NOT_SUPPORTED;
    unsigned count = process_samples(gpu, lastSeenTimeStamp, samples);
    if (count == 0) return NVML_ERROR_NOT_FOUND;
    if (utilization == NULL || *processSamplesCount < count) {
        *processSamplesCount = count;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned i = 0; i < count; i++) {
        utilization[i].pid = samples[i].pid;
        utilization[i].timeStamp = samples[i].at_us;
        utilization[i].smUtil = samples[i].sm;
        utilization[i].memUtil = samples[i].mem;
        utilization[i].encUtil = samples[i].enc;
        utilization[i].decUtil = samples[i].dec;
    }
    *processSamplesCount = count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetProcessesUtilizationInfo(nvmlDevice_t device, nvmlProcessesUtilizationInfo_t *info) {
    const gpu_t *gpu;
    static __thread process_sample_t samples[MAX_PROCESS_SAMPLES];
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (info == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (info->version != ProcessesUtilizationInfo_v1) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (mig_enabled(gpu)) return NVML_ERROR_NOT_SUPPORTED;
    unsigned count = process_samples(gpu, info->lastSeenTimeStamp, samples);
    if (count == 0) return NVML_ERROR_NOT_FOUND;
    if (info->procUtilArray == NULL || info->processSamplesCount < count) {
        info->processSamplesCount = count;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    for (unsigned i = 0; i < count; i++) {
        nvmlProcessUtilizationInfo_v1_t *out = &info->procUtilArray[i];
        out->timeStamp = samples[i].at_us;
        out->pid = samples[i].pid;
        out->smUtil = samples[i].sm;
        out->memUtil = samples[i].mem;
        out->encUtil = samples[i].enc;
        out->decUtil = samples[i].dec;
        out->jpgUtil = 0;
        out->ofaUtil = 0;
    }
    info->processSamplesCount = count;
    info->lastSeenTimeStamp = samples[count - 1].at_us;
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------- events */

static int is_open_event_set_locked(nvmlEventSet_t set) {
    uintptr_t address = (uintptr_t)set, first = (uintptr_t)&event_sets[0];
    return address >= first && address < first + sizeof event_sets &&
           (address - first) % sizeof(struct nvmlEventSet_st) == 0 && set->in_use;
}

static nvmlReturn_t event_set_status_locked(nvmlEventSet_t set) {
    if (state.init_count == 0) return NVML_ERROR_UNINITIALIZED;
    if (!is_open_event_set_locked(set)) return NVML_ERROR_INVALID_ARGUMENT;
    return NVML_SUCCESS;
}

static void push_event_locked(struct nvmlEventSet_st *set, const nvmlEventData_t *event) {
    if (set->len == FAKENVML_EVENT_QUEUE_LEN) {
        set->head = (set->head + 1) % FAKENVML_EVENT_QUEUE_LEN;
        set->len--;
    }
    set->queue[(set->head + set->len) % FAKENVML_EVENT_QUEUE_LEN] = *event;
    set->len++;
}

static nvmlEventData_t pop_event_locked(struct nvmlEventSet_st *set) {
    nvmlEventData_t event = set->queue[set->head];
    set->head = (set->head + 1) % FAKENVML_EVENT_QUEUE_LEN;
    set->len--;
    return event;
}

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
    nvmlReturn_t rc = NVML_ERROR_MEMORY;
    RETURN_IF_ERROR(begin_call(__func__));
    if (set == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    pthread_mutex_lock(&state_lock);
    for (unsigned i = 0; i < FAKENVML_MAX_EVENT_SETS; i++) {
        if (!event_sets[i].in_use) {
            memset(&event_sets[i], 0, sizeof event_sets[i]);
            event_sets[i].in_use = 1;
            *set = &event_sets[i];
            rc = NVML_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return rc;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
    nvmlReturn_t rc;
    count_call();
    pthread_mutex_lock(&state_lock);
    rc = event_set_status_locked(set);
    if (rc == NVML_SUCCESS) {
        set->in_use = 0;
        pthread_cond_broadcast(&events_changed);
    }
    pthread_mutex_unlock(&state_lock);
    return rc;
}

nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t device, unsigned long long *eventTypes) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (eventTypes == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *eventTypes = SUPPORTED_EVENT_TYPES;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long eventTypes,
                                      nvmlEventSet_t set) {
    const gpu_t *gpu;
    nvmlReturn_t rc;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (eventTypes & ~SUPPORTED_EVENT_TYPES) return NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_lock(&state_lock);
    rc = event_set_status_locked(set);
    if (rc == NVML_SUCCESS) set->registered[gpu->index] |= eventTypes;
    pthread_mutex_unlock(&state_lock);
    return rc;
}

static struct timespec monotonic_deadline(unsigned int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

static nvmlReturn_t event_set_wait(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
    nvmlReturn_t rc;
    int timed_out = 0;
    count_call();
    if (data == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    struct timespec deadline = monotonic_deadline(timeoutms);
    pthread_mutex_lock(&state_lock);
    for (;;) {
        rc = event_set_status_locked(set);
        if (rc != NVML_SUCCESS || set->len > 0) break;
        if (timed_out) {
            rc = NVML_ERROR_TIMEOUT;
            break;
        }
        timed_out = pthread_cond_timedwait(&events_changed, &state_lock, &deadline) == ETIMEDOUT;
    }
    if (rc == NVML_SUCCESS) *data = pop_event_locked(set);
    pthread_mutex_unlock(&state_lock);
    return rc;
}

nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
    return event_set_wait(set, data, timeoutms);
}

nvmlReturn_t nvmlEventSetWait(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeoutms) {
    return event_set_wait(set, data, timeoutms);
}

/* ---------------------------------------------------------------- control functions for tests */

void fakenvml_set_lost(unsigned index, int lost) {
    pthread_mutex_lock(&state_lock);
    ensure_configured_locked();
    if (index < FAKENVML_MAX_GPUS) gpus[index].lost = lost != 0;
    pthread_mutex_unlock(&state_lock);
}

void fakenvml_inject_xid(unsigned index, unsigned long long xid) {
    if (index >= FAKENVML_MAX_GPUS) return;
    nvmlEventData_t event = {
        .device = &gpus[index],
        .eventType = nvmlEventTypeXidCriticalError,
        .eventData = xid,
        .gpuInstanceId = NVML_VALUE_NOT_AVAILABLE_UINT,
        .computeInstanceId = NVML_VALUE_NOT_AVAILABLE_UINT,
    };
    pthread_mutex_lock(&state_lock);
    for (unsigned i = 0; i < FAKENVML_MAX_EVENT_SETS; i++)
        if (event_sets[i].in_use && (event_sets[i].registered[index] & nvmlEventTypeXidCriticalError))
            push_event_locked(&event_sets[i], &event);
    pthread_cond_broadcast(&events_changed);
    pthread_mutex_unlock(&state_lock);
}

void fakenvml_set_init_error(int code) {
    pthread_mutex_lock(&state_lock);
    ensure_configured_locked();
    state.init_error = code;
    pthread_mutex_unlock(&state_lock);
}

void fakenvml_set_hang(int index, double seconds) {
    pthread_mutex_lock(&state_lock);
    ensure_configured_locked();
    state.hang_gpu = index >= 0 && index < FAKENVML_MAX_GPUS ? index : -1;
    state.hang_file[0] = '\0';
    state.hang_epoch_s = now_s();
    state.hang_after_s = 0;
    state.hang_s = seconds > 0 ? seconds : 0;
    pthread_mutex_unlock(&state_lock);
}

unsigned fakenvml_delayed_calls(void) {
    pthread_mutex_lock(&state_lock);
    unsigned delayed = state.delayed_calls;
    pthread_mutex_unlock(&state_lock);
    return delayed;
}

unsigned fakenvml_hung_calls(void) {
    pthread_mutex_lock(&state_lock);
    unsigned hung = state.hung_calls;
    pthread_mutex_unlock(&state_lock);
    return hung;
}

void fakenvml_reset(void) {
    pthread_mutex_lock(&state_lock);
    state.configured = 0;
    state.hang_gpu = -1; /* wakes calls blocked in a hang */
    state.resets++;      /* and calls sleeping through a latency */
    state.init_count = 0;
    state.init_error = NVML_SUCCESS;
    for (unsigned i = 0; i < FAKENVML_MAX_GPUS; i++) gpus[i].lost = 0;
    for (unsigned i = 0; i < FAKENVML_MAX_EVENT_SETS; i++) event_sets[i].in_use = 0;
    pthread_cond_broadcast(&events_changed);
    pthread_mutex_unlock(&state_lock);
}

unsigned long long fakenvml_call_count(void) { return __atomic_load_n(&calls_served, __ATOMIC_RELAXED); }

long long fakenvml_gpm_samples_live(void) { return __atomic_load_n(&gpm_samples_live, __ATOMIC_RELAXED); }
