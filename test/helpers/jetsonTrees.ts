// Jetson-shaped sysfs trees for the telemetry readers (issue 14), written into a scratch folder and
// pointed at with JETBENCH_DEVICE_ROOT. Layouts, file names and units are those of
// ../shared/research/telemetry-facts.md §2 (jtop's readers, the kernel's ina3221 and thermal
// documentation, NVIDIA's jetson_clocks); the values are those of real tegrastats lines quoted there
// (§1.3), so a reader's result can be checked against what tegrastats printed on that board:
// - orin-nano-jp6: F8, Orin Nano 8 GB, JetPack 6 (henrygd/beszel agent/gpu_test.go): VDD_IN
//   12479 mW, VDD_CPU_GPU_CV 4667 mW, VDD_SOC 2817 mW; CPU 6 x 729 MHz; GPU 63% @ 621 MHz; temps
//   cpu 53.968, soc2 52.437, soc0 50.75, gpu 53.343, tj 53.968, soc1 51.656 °C. hwmon ina3221 (mV,
//   mA: voltages chosen, currents so that V x I gives the line's mW), channel 7 "sum of shunt
//   voltages" present (to be skipped); cpu-thermal passive trip 95 °C (mainline p3767 DT).
// - agx-orin-jp5: F7, AGX Orin 64 GB (GDWR/jetson_exporter issue 14): VDD_GPU_SOC 2340,
//   VDD_CPU_CV 390, VIN_SYS_5V0 4025, NC, VDDQ_VDD2_1V8AO 301, NC (mW): no VDD_IN, so the total is
//   the sum of the connected rails, 7056 mW (7048.8 from V x I here); GPU and CV0 zones offline
//   (-256 °C); soctherm_oc counters.
// - agx-xavier-jp4: AGX Xavier, JetPack 4, IIO ina3221x in mW (jtop's tests/tegrastats root line:
//   GPU 1155, CPU 385, SOC 2502, CV 0, VDDRQ 192, SYS5V 2692): total = sum = 6926 mW.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

type Tree = Record<string, string>;

function cpus(count: number, curKHz: number, minKHz: number, maxKHz: number, governor: string): Tree {
  const t: Tree = {};
  for (let i = 0; i < count; i++) {
    const d = `sys/devices/system/cpu/cpu${i}/cpufreq`;
    Object.assign(t, { [`${d}/scaling_cur_freq`]: `${curKHz}`, [`${d}/scaling_min_freq`]: `${minKHz}`, [`${d}/scaling_max_freq`]: `${maxKHz}`, [`${d}/scaling_governor`]: governor });
  }
  return t;
}

function zones(list: Array<[type: string, milliC: number, passiveMilliC?: number]>): Tree {
  const t: Tree = {};
  list.forEach(([type, milli, passive], i) => {
    const d = `sys/class/thermal/thermal_zone${i}`;
    t[`${d}/type`] = type;
    t[`${d}/temp`] = `${milli}`;
    if (passive !== undefined) {
      t[`${d}/trip_point_0_type`] = 'passive';
      t[`${d}/trip_point_0_temp`] = `${passive}`;
      t[`${d}/trip_point_1_type`] = 'critical';
      t[`${d}/trip_point_1_temp`] = `${passive + 9500}`;
    }
  });
  return t;
}

/** hwmon ina3221 channels: [label, mV, mA] by channel number. */
function ina3221Hwmon(dev: string, channels: Record<number, [string, number, number]>): Tree {
  const t: Tree = { [`sys/class/hwmon/${dev}/name`]: 'ina3221' };
  for (const [ch, [label, mV, mA]] of Object.entries(channels)) {
    t[`sys/class/hwmon/${dev}/in${ch}_label`] = label;
    t[`sys/class/hwmon/${dev}/in${ch}_input`] = `${mV}`;
    t[`sys/class/hwmon/${dev}/curr${ch}_input`] = `${mA}`;
  }
  return t;
}

function gpuDevfreq(node: string, name: string, curHz: number, minHz: number, maxHz: number, loadPermille: number): Tree {
  const d = `sys/class/devfreq/${node}`;
  return { [`${d}/cur_freq`]: `${curHz}`, [`${d}/min_freq`]: `${minHz}`, [`${d}/max_freq`]: `${maxHz}`, [`${d}/governor`]: 'nvhost_podgov', [`${d}/device/of_node/name`]: name, [`${d}/device/load`]: `${loadPermille}` };
}

export const JETSON_TREES = {
  'orin-nano-jp6': {
    'proc/device-tree/model': 'NVIDIA Jetson Orin Nano Developer Kit\0',
    'etc/nv_tegra_release': '# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025',
    'var/lib/nvpmodel/status': 'pmode:0000',
    'etc/nvpmodel.conf': '< POWER_MODEL ID=0 NAME=15W >\n< POWER_MODEL ID=2 NAME=MAXN_SUPER >\n< PM_CONFIG DEFAULT=2 >\n',
    ...cpus(6, 729600, 115200, 1510400, 'schedutil'),
    // 12479 mW = 5016 mV x 2487.8 mA; 4667 = 5016 x 930.4; 2817 = 5016 x 561.6 (mA rounded as the driver prints integers: 2488, 930, 562).
    ...ina3221Hwmon('hwmon1', { 1: ['VDD_IN', 5016, 2488], 2: ['VDD_CPU_GPU_CV', 5016, 930], 3: ['VDD_SOC', 5016, 562], 7: ['sum of shunt voltages', 24, 0] }),
    ...zones([['cpu-thermal', 53968, 95000], ['soc2-thermal', 52437], ['soc0-thermal', 50750], ['gpu-thermal', 53343, 95000], ['tj-thermal', 53968], ['soc1-thermal', 51656]]),
    ...gpuDevfreq('17000000.gpu', 'gpu', 621000000, 306000000, 1020000000, 630),
    'sys/class/hwmon/hwmon3/name': 'soctherm_oc',
    'sys/class/hwmon/hwmon3/oc1_event_cnt': '0',
    'sys/class/hwmon/hwmon3/oc2_event_cnt': '0',
    'sys/class/hwmon/hwmon3/oc3_event_cnt': '12',
  },
  'agx-orin-jp5': {
    'proc/device-tree/model': 'Jetson AGX Orin Developer Kit\0',
    ...cpus(12, 729600, 115200, 2201600, 'schedutil'),
    // 0x40 and 0x41 at ~19.8 V (the input side); integer mA as the driver prints them, so V x I is
    // within 0.5% of the line's mW: 2336.4, 396.0, 4019.4; 0x41: ch1 NC, ch2 VDDQ_VDD2_1V8AO 297.0, ch3 NC.
    ...ina3221Hwmon('hwmon1', { 1: ['VDD_GPU_SOC', 19800, 118], 2: ['VDD_CPU_CV', 19800, 20], 3: ['VIN_SYS_5V0', 19800, 203] }),
    ...ina3221Hwmon('hwmon2', { 1: ['NC', 0, 0], 2: ['VDDQ_VDD2_1V8AO', 19800, 15], 3: ['NC', 0, 0] }),
    ...zones([['CV0-therm', -256000], ['CPU-therm', 44562], ['Tboard_tegra', 32000], ['GPU-therm', -256000], ['tj-therm', 44343]]),
    'sys/class/hwmon/hwmon4/name': 'soctherm_oc',
    'sys/class/hwmon/hwmon4/oc1_event_cnt': '0',
    'sys/class/hwmon/hwmon4/oc2_event_cnt': '0',
    'sys/class/hwmon/hwmon4/oc3_event_cnt': '0',
  },
  'agx-xavier-jp4': {
    'proc/device-tree/model': 'Jetson-AGX\0',
    ...cpus(8, 1190400, 1190400, 2265600, 'schedutil'),
    'sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0/rail_name_0': 'GPU',
    'sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0/in_power0_input': '1155',
    'sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0/rail_name_1': 'CPU',
    'sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0/in_power1_input': '385',
    'sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0/rail_name_2': 'SOC',
    'sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0/in_power2_input': '2502',
    'sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/rail_name_0': 'CV',
    'sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/in_power0_input': '0',
    'sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/rail_name_1': 'VDDRQ',
    'sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/in_power1_input': '192',
    'sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/rail_name_2': 'SYS5V',
    'sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/in_power2_input': '2692',
    ...zones([['AO-therm', 26500], ['GPU-therm', 27000], ['CPU-therm', 28000, 96000]]),
    ...gpuDevfreq('17000000.gv11b', 'gv11b', 1377000000, 114750000, 1377000000, 0),
  },
} satisfies Record<string, Tree>;

export type JetsonTreeName = keyof typeof JETSON_TREES;

/** Writes the named tree under `dir` (which becomes JETBENCH_DEVICE_ROOT) and returns `dir`. */
export function writeJetsonTree(dir: string, name: JetsonTreeName): string {
  for (const [rel, text] of Object.entries(JETSON_TREES[name])) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

/** A CLI's stderr watcher that makes the Orin Nano tree's board throttle for over-current while
 * the run measures: oc3_event_cnt goes from 12 to 15 at the first "measuring" progress line. */
export function overCurrentWhileMeasuring(root: string): { onStderr(text: string): void; readonly bumped: boolean } {
  let bumped = false;
  return {
    onStderr(text: string) {
      if (bumped || !/measuring: \d+\//.test(text)) return;
      bumped = true;
      writeFileSync(path.join(root, 'sys/class/hwmon/hwmon3/oc3_event_cnt'), '15');
    },
    get bumped() {
      return bumped;
    },
  };
}
