#!/usr/bin/env python3
"""NVML telemetry for jetbench's agent (issue 14): samples one NVIDIA GPU and prints a JSON line per
sample on stdout until stdin closes or it is terminated.

Loads libnvidia-ml.so.1 with ctypes at run time: no pip package and no build, so it runs on any
device with a driver and any Python 3.6+ (a Jetson has no NVML: it answers with an error line).

  python3 jetbench_nvml.py [--hz 10] [--device 0] [--seconds S]

First line: {"hello": {name, driver, powerLimitMw, maxSmClockMhz, clock: "monotonic"}} or
{"error": "..."} (then exit 0: no NVML is an answer, not a crash). Then per sample:
{"t": ms on CLOCK_MONOTONIC, "energyMj": cumulative counter (Volta+), "powerMw": instantaneous
(NVML_FI_DEV_POWER_INSTANT), "powerAvgMw": nvmlDeviceGetPowerUsage (a 1 s average on Ampere and
newer: never integrate it), "smMhz", "memMhz", "tempC", "utilGpu", "reasons": clock event reasons
bitmask}. A field NVML cannot give on this GPU is absent.
"""
import ctypes
import json
import signal
import sys
import threading
import time

NVML_FI_DEV_POWER_INSTANT = 186
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_TEMPERATURE_GPU = 0


class FieldValue(ctypes.Structure):
    _fields_ = [
        ("fieldId", ctypes.c_uint),
        ("scopeId", ctypes.c_uint),
        ("timestamp", ctypes.c_longlong),
        ("latencyUsec", ctypes.c_longlong),
        ("valueType", ctypes.c_int),
        ("nvmlReturn", ctypes.c_int),
        ("value", ctypes.c_ulonglong),
    ]


class Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


# nvmlValueType_t: 0 double, 1 unsigned int, 2 unsigned long, 3 unsigned long long, 4 signed long long,
# 5 signed int, 6 unsigned short.
def field_number(fv):
    raw = fv.value
    if fv.valueType == 0:
        return ctypes.cast(ctypes.pointer(ctypes.c_ulonglong(raw)), ctypes.POINTER(ctypes.c_double)).contents.value
    if fv.valueType in (1, 6):
        return raw & 0xFFFFFFFF
    if fv.valueType == 5:
        return ctypes.c_int(raw & 0xFFFFFFFF).value
    if fv.valueType == 4:
        return ctypes.c_longlong(raw).value
    return raw


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def now_ms():
    return time.monotonic() * 1000.0


def main(argv):
    hz, index, seconds = 10.0, 0, None
    i = 1
    while i < len(argv):
        if argv[i] == "--hz":
            hz = float(argv[i + 1]); i += 2
        elif argv[i] == "--device":
            index = int(argv[i + 1]); i += 2
        elif argv[i] == "--seconds":
            seconds = float(argv[i + 1]); i += 2
        else:
            emit({"error": "unknown argument %r" % argv[i]}); return 2
    hz = min(max(hz, 1.0), 100.0)
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError as e:
        emit({"error": "NVML is not on this device (libnvidia-ml.so.1: %s): no NVIDIA driver, or a Jetson (its GPU has no NVML)" % e})
        return 0
    rc = nvml.nvmlInit_v2()
    if rc != 0:
        emit({"error": "nvmlInit failed (NVML error %d): the NVIDIA driver is not loaded or the user cannot open the GPU" % rc})
        return 0
    handle = ctypes.c_void_p()
    rc = nvml.nvmlDeviceGetHandleByIndex_v2(ctypes.c_uint(index), ctypes.byref(handle))
    if rc != 0:
        emit({"error": "no NVIDIA GPU %d (NVML error %d)" % (index, rc)})
        return 0

    def get_uint(fn, *args):
        out = ctypes.c_uint()
        f = getattr(nvml, fn, None)
        if f is None or f(handle, *args, ctypes.byref(out)) != 0:
            return None
        return out.value

    def get_ull(fn):
        out = ctypes.c_ulonglong()
        f = getattr(nvml, fn, None)
        if f is None or f(handle, ctypes.byref(out)) != 0:
            return None
        return out.value

    name = ctypes.create_string_buffer(96)
    driver = ctypes.create_string_buffer(96)
    nvml.nvmlDeviceGetName(handle, name, ctypes.c_uint(96))
    nvml.nvmlSystemGetDriverVersion(driver, ctypes.c_uint(96))
    reasons_fn = "nvmlDeviceGetCurrentClocksEventReasons" if hasattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons") else "nvmlDeviceGetCurrentClocksThrottleReasons"
    emit({"hello": {
        "name": name.value.decode(errors="replace"),
        "driver": driver.value.decode(errors="replace"),
        "powerLimitMw": get_uint("nvmlDeviceGetEnforcedPowerLimit"),
        "maxSmClockMhz": get_uint("nvmlDeviceGetMaxClockInfo", ctypes.c_int(NVML_CLOCK_SM)),
        "clock": "monotonic",
    }})

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch_stdin():
        try:
            while sys.stdin.read(4096):
                pass
        except Exception:
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    period = 1.0 / hz
    started = time.monotonic()
    nxt = started
    while not stop.is_set():
        sample = {"t": now_ms()}
        energy = get_ull("nvmlDeviceGetTotalEnergyConsumption")
        if energy is not None:
            sample["energyMj"] = energy
        fv = FieldValue()
        fv.fieldId = NVML_FI_DEV_POWER_INSTANT
        if nvml.nvmlDeviceGetFieldValues(handle, ctypes.c_int(1), ctypes.byref(fv)) == 0 and fv.nvmlReturn == 0:
            sample["powerMw"] = field_number(fv)
        for key, fn, extra in (
            ("powerAvgMw", "nvmlDeviceGetPowerUsage", ()),
            ("smMhz", "nvmlDeviceGetClockInfo", (ctypes.c_int(NVML_CLOCK_SM),)),
            ("memMhz", "nvmlDeviceGetClockInfo", (ctypes.c_int(NVML_CLOCK_MEM),)),
            ("tempC", "nvmlDeviceGetTemperature", (ctypes.c_int(NVML_TEMPERATURE_GPU),)),
        ):
            v = get_uint(fn, *extra)
            if v is not None:
                sample[key] = v
        util = Utilization()
        if nvml.nvmlDeviceGetUtilizationRates(handle, ctypes.byref(util)) == 0:
            sample["utilGpu"] = util.gpu
        reasons = get_ull(reasons_fn)
        if reasons is not None:
            sample["reasons"] = reasons
        try:
            emit(sample)
        except BrokenPipeError:
            break
        if seconds is not None and time.monotonic() - started >= seconds:
            break
        nxt += period
        delay = nxt - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        else:
            nxt = time.monotonic()
    nvml.nvmlShutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
