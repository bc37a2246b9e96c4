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
 *
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
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_SERIAL_BUFFER_SIZE 30
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16
#define NVML_VALUE_NOT_AVAILABLE_UINT 0xFFFFFFFFU

#define NVML_FI_DEV_MEMORY_TEMP 82
#define NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION 83
#define NVML_FI_DEV_PCIE_REPLAY_COUNTER 94

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
} state;
static unsigned long long calls_served;

__attribute__((constructor)) static void fakenvml_load(void) {
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
    pthread_mutex_lock(&state_lock);
    if (state.init_count == 0)
        rc = NVML_ERROR_UNINITIALIZED;
    else if (is_unsupported_locked(function))
        rc = NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_unlock(&state_lock);
    return rc;
}

/* The checks every call on a device handle makes: initialised, known handle, not lost, supported. */
static nvmlReturn_t begin_device_call(const char *function, nvmlDevice_t device, const gpu_t **gpu) {
    nvmlReturn_t rc = NVML_SUCCESS;
    count_call();
    pthread_mutex_lock(&state_lock);
    if (state.init_count == 0)
        rc = NVML_ERROR_UNINITIALIZED;
    else if (!is_known_device(device, state.gpu_count))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (device->lost)
        rc = NVML_ERROR_GPU_IS_LOST;
    else if (is_unsupported_locked(function))
        rc = NVML_ERROR_NOT_SUPPORTED;
    pthread_mutex_unlock(&state_lock);
    *gpu = device;
    return rc;
}

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

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    return copy_string(name, length, GPU_NAME);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    return copy_string(uuid, length, gpu->uuid);
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
    return fixed_uint(__func__, device, (unsigned int *)isPending, NVML_FEATURE_DISABLED);
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
    *currentMode = NVML_DEVICE_MIG_DISABLE;
    *pendingMode = NVML_DEVICE_MIG_DISABLE;
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
    unsigned long long app_used, free_bytes;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (memory == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    fill_memory(gpu, &app_used, &free_bytes);
    memory->total = TOTAL_MEMORY_BYTES;
    memory->used = RESERVED_MEMORY_BYTES + app_used;
    memory->free = free_bytes;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    const gpu_t *gpu;
    unsigned long long app_used, free_bytes;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (memory == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (memory->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    fill_memory(gpu, &app_used, &free_bytes);
    memory->total = TOTAL_MEMORY_BYTES;
    memory->reserved = RESERVED_MEMORY_BYTES;
    memory->used = app_used;
    memory->free = free_bytes;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    if (utilization == NULL) return NVML_ERROR_INVALID_ARGUMENT;
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

static long long realtime_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void fill_field_value(const gpu_t *gpu, double t, nvmlFieldValue_t *field) {
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
        field->value.ullVal = 0;
        break;
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
        fill_field_value(gpu, t, &values[i]);
    }
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

/* ---------------------------------------------------------------- memory health */

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, nvmlMemoryErrorType_t errorType,
                                         nvmlEccCounterType_t counterType, unsigned long long *eccCounts) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
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
                                     unsigned int *infoCount, nvmlProcessInfo_t *infos) {
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
        infos[i].gpuInstanceId = NVML_VALUE_NOT_AVAILABLE_UINT;
        infos[i].computeInstanceId = NVML_VALUE_NOT_AVAILABLE_UINT;
    }
    *infoCount = pid_count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
    const gpu_t *gpu;
    unsigned pids[FAKENVML_MAX_LIST_ITEMS], pid_count;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    pthread_mutex_lock(&state_lock);
    if (state.report_own_pid) {
        pids[0] = (unsigned)getpid();
        pid_count = 1;
    } else {
        pid_count = state.pid_count;
        memcpy(pids, state.pids, pid_count * sizeof pids[0]);
    }
    pthread_mutex_unlock(&state_lock);

    activity_t a = current_activity(gpu);
    unsigned long long bytes_each = 0;
    if (pid_count > 0) bytes_each = app_memory_bytes(gpu, &a) / 10 * 9 / pid_count / MIB * MIB;
    return report_processes(pids, pid_count, bytes_each, infoCount, infos);
}

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                      nvmlProcessInfo_t *infos) {
    const gpu_t *gpu;
    RETURN_IF_ERROR(begin_device_call(__func__, device, &gpu));
    return report_processes(NULL, 0, 0, infoCount, infos);
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

void fakenvml_reset(void) {
    pthread_mutex_lock(&state_lock);
    state.configured = 0;
    state.init_count = 0;
    state.init_error = NVML_SUCCESS;
    for (unsigned i = 0; i < FAKENVML_MAX_GPUS; i++) gpus[i].lost = 0;
    for (unsigned i = 0; i < FAKENVML_MAX_EVENT_SETS; i++) event_sets[i].in_use = 0;
    pthread_cond_broadcast(&events_changed);
    pthread_mutex_unlock(&state_lock);
}

unsigned long long fakenvml_call_count(void) { return __atomic_load_n(&calls_served, __ATOMIC_RELAXED); }
