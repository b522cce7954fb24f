"""Basytec text export (synthetic: no real Basytec file in the test set; columns as documented
for PyProBE's sample, domain reference §4.6)."""

from __future__ import annotations

import numpy as np

from cycler_cli.io import registry

BASYTEC = (
    "~Start of Test: 19.06.2023 17:56:53\n"
    "~Resultfile from Basytec Battery Test System\n"
    "~Time[h]\tDataSet\tt-Step[s]\tLine\tCommand\tU[V]\tI[A]\tAh-Cyc-Charge\tAh-Cyc-Discharge\tT1[°C]\tCyc-Count\n"
    "0,0\t1\t0\t1\tPause\t3,5\t0\t0\t0\t25,0\t0\n"
    "0,5\t2\t1800\t2\tCharge\t3,9\t2,0\t1,0\t0\t25,5\t1\n"
    "1,0\t3\t3600\t2\tCharge\t4,1\t2,0\t2,0\t0\t26,0\t1\n"
    "1,5\t4\t1800\t3\tDischarge\t3,6\t-2,0\t2,0\t1,0\t26,0\t1\n"
)


def test_basytec_latin1_decimal_comma(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes(BASYTEC.encode("latin-1"))
    data = registry.read(path)
    assert data.meta.reader == "basytec-txt"
    frame = data.frame
    np.testing.assert_allclose(frame.time_s, [0, 1800, 3600, 5400])  # Time[h] x 3600
    np.testing.assert_allclose(frame.current_a, [0, 2, 2, -2])
    np.testing.assert_allclose(frame.voltage_v, [3.5, 3.9, 4.1, 3.6])
    np.testing.assert_array_equal(frame.step, [1, 2, 2, 3])
    np.testing.assert_array_equal(frame.cycle, [0, 1, 1, 1])
    np.testing.assert_allclose(frame.temperature_c, [25, 25.5, 26, 26])
    # charge accumulator +1, +1 Ah then discharge accumulator +1 Ah: net 0, 1, 2, 1
    np.testing.assert_allclose(frame.charge_ah, [0, 1, 2, 1])
    assert data.meta.start_time.isoformat() == "2023-06-19T17:56:53"
