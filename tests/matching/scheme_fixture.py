"""Small hand-built IPC scheme tables for the matching tests (real titles, true dot chains)."""

from __future__ import annotations

import pandas as pd

from coretech.ipc.scheme import coerce_scheme, with_paths

# H01L29 dot chain as published: 29/66 > 29/68 > 29/70 Bipolar devices > 29/72 Transistor-type
# devices > 29/73 Bipolar junction transistors > 29/739 controlled by field effect; plus the
# unipolar branch (29/76 > 29/772 > 29/78 insulated gate) and unrelated subclasses.
EN_ROWS = [
    ("H01L", "subclass", None, None, "Semiconductor devices; electric solid state devices not otherwise provided for"),
    ("H01L29/00", "main_group", "H01L", 0, "Semiconductor devices specially adapted for rectifying, amplifying, oscillating or switching"),
    ("H01L29/02", "subgroup", "H01L29/00", 1, "Semiconductor bodies"),
    ("H01L29/66", "subgroup", "H01L29/00", 1, "Types of semiconductor device"),
    ("H01L29/68", "subgroup", "H01L29/66", 2, "controllable by only the electric current supplied, or only the electric potential applied, to an electrode which does not carry the current to be rectified, amplified, or switched"),
    ("H01L29/70", "subgroup", "H01L29/68", 3, "Bipolar devices"),
    ("H01L29/72", "subgroup", "H01L29/70", 4, "Transistor-type devices, i.e. able to continuously respond to applied control signals"),
    ("H01L29/73", "subgroup", "H01L29/72", 5, "Bipolar junction transistors"),
    ("H01L29/739", "subgroup", "H01L29/73", 6, "controlled by field effect"),
    ("H01L29/76", "subgroup", "H01L29/68", 3, "Unipolar devices"),
    ("H01L29/772", "subgroup", "H01L29/76", 4, "Field effect transistors"),
    ("H01L29/78", "subgroup", "H01L29/772", 5, "with field effect produced by an insulated gate"),
    ("H01B", "subclass", None, None, "Cables; conductors; insulators"),
    ("H01B3/00", "main_group", "H01B", 0, "Insulators or insulating bodies characterised by the insulating materials"),
    ("H01M", "subclass", None, None, "Processes or means for the direct conversion of chemical energy into electrical energy, e.g. batteries"),
    ("H01M10/00", "main_group", "H01M", 0, "Secondary cells; Manufacture thereof"),
    ("H01M10/052", "subgroup", "H01M10/00", 1, "Li-accumulators"),
    ("H01M10/0525", "subgroup", "H01M10/052", 2, "Rocking-chair batteries, i.e. batteries with lithium insertion or intercalation in both electrodes; Lithium-ion batteries"),
    ("F16C", "subclass", None, None, "Shafts; flexible shafts; elements or crankshaft mechanisms; rotary bodies other than gearing elements; bearings"),
    ("F16C19/00", "main_group", "F16C", 0, "Bearings with rolling contact, for exclusively rotary movement"),
    ("F16C33/00", "main_group", "F16C", 0, "Parts of bearings; Special methods for making bearings or parts thereof"),
    ("F16C33/30", "subgroup", "F16C33/00", 1, "Parts of ball or roller bearings"),
    ("F16C33/62", "subgroup", "F16C33/30", 2, "Selection of substances"),
    ("C22C", "subclass", None, None, "Alloys"),
    ("C22C38/00", "main_group", "C22C", 0, "Ferrous alloys, e.g. steel alloys"),
    ("G06N", "subclass", None, None, "Computing arrangements based on specific computational models"),
    ("G06N3/00", "main_group", "G06N", 0, "Computing arrangements based on biological models"),
    ("G06N3/02", "subgroup", "G06N3/00", 1, "Neural networks"),
    ("G06N3/08", "subgroup", "G06N3/02", 2, "Learning methods"),
    ("G06N10/00", "main_group", "G06N", 0, "Quantum computing, i.e. information processing based on quantum-mechanical phenomena"),
]

ZH_ROWS = [
    ("C23C", "subclass", None, None, "对金属材料的镀覆；用金属材料对材料的镀覆；表面扩散法，化学转化或置换法的金属材料表面处理"),
    ("C23C14/00", "main_group", "C23C", 0, "通过覆层形成材料的真空蒸发、溅射或离子注入进行镀覆"),
    ("C23C14/34", "subgroup", "C23C14/00", 1, "溅射"),
    ("C23C14/3407", "subgroup", "C23C14/34", 2, "阴极组件，用于溅射设备，例如靶材"),
    ("C23C14/3414", "subgroup", "C23C14/3407", 3, "金属或半导体靶材"),
    ("C01B", "subclass", None, None, "非金属元素；其化合物"),
    ("C01B32/00", "main_group", "C01B", 0, "碳；其化合物"),
    ("C01B32/956", "subgroup", "C01B32/00", 1, "碳化硅"),
    ("H10D", "subclass", None, None, "无机电子半导体器件"),
    ("H10D12/00", "main_group", "H10D", 0, "由场效应控制的双极器件，例如绝缘栅双极晶体管[IGBT]"),
    ("H10D62/00", "main_group", "H10D", 0, "半导体器件的半导体本体或其区域"),
    ("H10D62/83", "subgroup", "H10D62/00", 1, "由IV族材料形成的，例如碳化硅（SiC）"),
    ("H01M", "subclass", None, None, "用于直接转变化学能为电能的方法或装置，例如电池组"),
    ("H01M10/00", "main_group", "H01M", 0, "二次电池；及其制造"),
    ("H01M10/0525", "subgroup", "H01M10/00", 1, "摇椅式电池，即其两个电极均插入或嵌入有锂的电池；锂离子电池"),
    ("G06N", "subclass", None, None, "基于特定计算模型的计算机系统"),
    ("G06N3/00", "main_group", "G06N", 0, "基于生物学模型的计算机系统"),
    ("G06N3/02", "subgroup", "G06N3/00", 1, "神经网络"),
    ("F16C", "subclass", None, None, "轴；软轴；曲轴机构；旋转体；轴承"),
    ("F16C33/00", "main_group", "F16C", 0, "轴承零件；制造轴承或其零件的专门方法"),
]


def _frame(rows: list[tuple], lang: str) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["code", "kind", "parent", "depth", "title"])
    df["depth_source"] = "scheme"
    df["lang"] = lang
    df["edition"] = "2026.01"
    df["source"] = f"hand-built test scheme ({lang})"
    return with_paths(coerce_scheme(df))


def english_scheme() -> pd.DataFrame:
    return _frame(EN_ROWS, "en")


def chinese_scheme() -> pd.DataFrame:
    return _frame(ZH_ROWS, "zh")


def bilingual_scheme() -> pd.DataFrame:
    return pd.concat([english_scheme(), chinese_scheme()], ignore_index=True)
