"""The measurement catalogue: physical measurements and laboratory tests of adult cohorts.

Items follow what Chinese population cohorts (China Kadoorie Biobank, CHARLS, the China
Chronic Disease and Risk Factor Surveillance) measure at baseline and resurvey. Each item
has one canonical unit, typically the SI unit reported by Chinese laboratories; other
units are accepted only where the conversion is a single exact factor (canonical = value x
factor). ``limits`` bound what is physically possible; ``plausible`` is what QC expects in
adults of a population cohort, by sex where that differs.

For glucose, the lipids and creatinine the limits are chosen so that a typical value in
the other unit labelled with the canonical unit falls outside them: ingest then rejects
the value and suggests the unit mix-up instead of storing it.
"""

from __future__ import annotations

from precimed.standard.catalogue import MeasurementItem

# Conversion factors: SI conversion tables (AMA Manual of Style, SI conversion table;
# Young DS, "Implementation of SI units for clinical laboratory data", Ann Intern Med
# 1987;106:114-129) and molar masses. Glucose 180.16 g/mol, cholesterol 386.7 g/mol,
# triolein 885.7 g/mol, creatinine 113.12 g/mol, uric acid 168.1 g/mol, bilirubin
# 584.7 g/mol, calcium 40.08, magnesium 24.31, phosphorus 30.97 g/mol, thyroxine
# 776.9 g/mol, triiodothyronine 651.0 g/mol, 25-hydroxyvitamin D 400.6 g/mol.
GLUCOSE_MG_DL = 1 / 18.016
CHOLESTEROL_MG_DL = 1 / 38.67
TRIGLYCERIDE_MG_DL = 1 / 88.57
CREATININE_MG_DL = 88.4
URIC_ACID_MG_DL = 59.48
BILIRUBIN_MG_DL = 17.1
CALCIUM_MG_DL = 1 / 4.008
MAGNESIUM_MG_DL = 1 / 2.431
PHOSPHATE_MG_DL = 1 / 3.097
MMHG_PER_KPA = 1000 / 133.322387415  # 1 mmHg = 133.322387415 Pa (ISO 80000-4)
# HbA1c: IFCC mmol/mol = 10.929 x (NGSP % - 2.15) has an offset, so it is not accepted.
# Insulin: pmol/L conversions (6.00 or 6.945 pmol per µU) are not agreed; not accepted.
# Urea: "mg/dL" means urea nitrogen (BUN) in some labs and urea in others; not accepted.

MEASUREMENTS: tuple[MeasurementItem, ...] = (
    # Anthropometry
    MeasurementItem(
        "HEIGHT", "身高", "Standing height", "anthropometry", "cm",
        limits=(50.0, 250.0), plausible=(135.0, 200.0),
        plausible_male=(145.0, 200.0), plausible_female=(135.0, 185.0),
        other_units={"m": 100.0, "mm": 0.1}, loinc="8302-2"),
    MeasurementItem(
        "WEIGHT", "体重", "Body weight", "anthropometry", "kg",
        limits=(20.0, 300.0), plausible=(35.0, 150.0),
        plausible_male=(40.0, 150.0), plausible_female=(35.0, 130.0),
        other_units={"g": 0.001, "斤": 0.5}, loinc="29463-7",
        description="Light clothing, shoes off. 斤 (jin) is exactly 0.5 kg."),
    MeasurementItem(
        "BMI", "体重指数", "Body mass index", "anthropometry", "kg/m2",
        limits=(10.0, 80.0), plausible=(15.0, 45.0), loinc="39156-5",
        description="Weight (kg) divided by height (m) squared."),
    MeasurementItem(
        "WAIST", "腰围", "Waist circumference", "anthropometry", "cm",
        limits=(40.0, 200.0), plausible=(55.0, 135.0),
        plausible_male=(60.0, 135.0), plausible_female=(55.0, 130.0),
        other_units={"m": 100.0, "mm": 0.1, "in": 2.54}, loinc="8280-0"),
    MeasurementItem(
        "HIP", "臀围", "Hip circumference", "anthropometry", "cm",
        limits=(50.0, 220.0), plausible=(70.0, 140.0),
        other_units={"m": 100.0, "mm": 0.1, "in": 2.54}),
    MeasurementItem(
        "BODY_FAT", "体脂百分比", "Body fat percentage", "anthropometry", "%",
        limits=(2.0, 75.0), plausible=(5.0, 55.0),
        plausible_male=(5.0, 45.0), plausible_female=(10.0, 55.0), loinc="41982-0",
        description="Bioelectrical impedance."),
    # Blood pressure
    MeasurementItem(
        "SBP", "收缩压", "Systolic blood pressure", "blood_pressure", "mmHg",
        limits=(40.0, 300.0), plausible=(80.0, 220.0),
        other_units={"kPa": MMHG_PER_KPA}, loinc="8480-6", decimals=0,
        description="Seated, after 5 minutes' rest; the mean of the valid readings."),
    MeasurementItem(
        "DBP", "舒张压", "Diastolic blood pressure", "blood_pressure", "mmHg",
        limits=(20.0, 200.0), plausible=(40.0, 130.0),
        other_units={"kPa": MMHG_PER_KPA}, loinc="8462-4", decimals=0),
    MeasurementItem(
        "HR", "心率", "Heart rate", "blood_pressure", "/min",
        limits=(20.0, 250.0), plausible=(40.0, 130.0),
        other_units={"bpm": 1.0, "次/分": 1.0}, loinc="8867-4", decimals=0,
        description="Resting pulse from the blood-pressure monitor."),
    # Glucose metabolism
    MeasurementItem(
        "GLU_FAST", "空腹血糖", "Fasting plasma glucose", "glucose", "mmol/L",
        limits=(0.5, 60.0), plausible=(2.5, 25.0),
        other_units={"mg/dL": GLUCOSE_MG_DL}, loinc="14771-0", decimals=2,
        description="Venous plasma after at least 8 hours' fast."),
    MeasurementItem(
        "GLU_RAND", "随机血糖", "Random plasma glucose", "glucose", "mmol/L",
        limits=(0.5, 60.0), plausible=(2.5, 30.0),
        other_units={"mg/dL": GLUCOSE_MG_DL}, loinc="14749-6", decimals=2,
        description="Non-fasting; record the hours since the last meal with the visit."),
    MeasurementItem(
        "GLU_2H", "OGTT 2小时血糖", "2-hour plasma glucose (75 g OGTT)", "glucose", "mmol/L",
        limits=(0.5, 60.0), plausible=(2.5, 30.0),
        other_units={"mg/dL": GLUCOSE_MG_DL}, decimals=2),
    MeasurementItem(
        "HBA1C", "糖化血红蛋白", "Haemoglobin A1c (NGSP)", "glucose", "%",
        limits=(2.0, 25.0), plausible=(3.5, 15.0), loinc="4548-4",
        description="NGSP/DCCT-aligned percentage. IFCC mmol/mol values must be converted "
                    "before submission (the conversion has an offset)."),
    MeasurementItem(
        "INSULIN_FAST", "空腹胰岛素", "Fasting insulin", "glucose", "mU/L",
        limits=(0.1, 1000.0), plausible=(1.0, 60.0),
        other_units={"µU/mL": 1.0, "µIU/mL": 1.0, "mIU/L": 1.0}, loinc="20448-7"),
    # Lipids
    MeasurementItem(
        "TC", "总胆固醇", "Total cholesterol", "lipids", "mmol/L",
        limits=(0.5, 30.0), plausible=(2.0, 10.0),
        other_units={"mg/dL": CHOLESTEROL_MG_DL}, loinc="14647-2", decimals=2),
    MeasurementItem(
        "TG", "甘油三酯", "Triglycerides", "lipids", "mmol/L",
        limits=(0.1, 60.0), plausible=(0.3, 10.0),
        other_units={"mg/dL": TRIGLYCERIDE_MG_DL}, loinc="14927-8", decimals=2),
    MeasurementItem(
        "LDL_C", "低密度脂蛋白胆固醇", "LDL cholesterol", "lipids", "mmol/L",
        limits=(0.1, 25.0), plausible=(0.5, 7.0),
        other_units={"mg/dL": CHOLESTEROL_MG_DL}, loinc="22748-8", decimals=2,
        description="Measured directly, or calculated (Friedewald) when TG < 4.5 mmol/L."),
    MeasurementItem(
        "HDL_C", "高密度脂蛋白胆固醇", "HDL cholesterol", "lipids", "mmol/L",
        limits=(0.1, 10.0), plausible=(0.4, 3.5),
        other_units={"mg/dL": CHOLESTEROL_MG_DL}, loinc="14646-4", decimals=2),
    MeasurementItem(
        "APOA1", "载脂蛋白A1", "Apolipoprotein A1", "lipids", "g/L",
        limits=(0.1, 5.0), plausible=(0.6, 2.5),
        other_units={"mg/dL": 0.01}, loinc="1869-7", decimals=2),
    MeasurementItem(
        "APOB", "载脂蛋白B", "Apolipoprotein B", "lipids", "g/L",
        limits=(0.1, 5.0), plausible=(0.3, 2.0),
        other_units={"mg/dL": 0.01}, loinc="1884-6", decimals=2),
    # Renal function
    MeasurementItem(
        "CREA", "血肌酐", "Serum creatinine", "renal", "µmol/L",
        limits=(10.0, 3000.0), plausible=(30.0, 200.0),
        plausible_male=(40.0, 200.0), plausible_female=(30.0, 170.0),
        other_units={"mg/dL": CREATININE_MG_DL}, loinc="14682-9", decimals=0),
    MeasurementItem(
        "UREA", "尿素", "Serum urea", "renal", "mmol/L",
        limits=(0.3, 100.0), plausible=(1.5, 15.0), decimals=2,
        description="Chinese laboratories report urea (尿素/尿素氮) in mmol/L. BUN in mg/dL "
                    "must be converted (× 0.357) before submission."),
    MeasurementItem(
        "UA", "血尿酸", "Serum uric acid", "renal", "µmol/L",
        limits=(20.0, 2000.0), plausible=(90.0, 700.0),
        plausible_male=(150.0, 700.0), plausible_female=(90.0, 600.0),
        other_units={"mg/dL": URIC_ACID_MG_DL}, loinc="14933-6", decimals=0),
    MeasurementItem(
        "EGFR", "估算肾小球滤过率", "Estimated glomerular filtration rate", "renal",
        "mL/min/1.73m2", limits=(1.0, 250.0), plausible=(15.0, 150.0),
        loinc="62238-1", decimals=0,
        description="CKD-EPI creatinine equation."),
    MeasurementItem(
        "CYSC", "胱抑素C", "Cystatin C", "renal", "mg/L",
        limits=(0.1, 15.0), plausible=(0.4, 3.0), loinc="33863-2", decimals=2),
    MeasurementItem(
        "UACR", "尿白蛋白/肌酐比值", "Urine albumin-to-creatinine ratio", "renal", "mg/g",
        limits=(0.0, 30000.0), plausible=(0.5, 3000.0),
        other_units={"mg/mmol": 8.84}, loinc="9318-7",
        description="Spot urine. 1 mg/mmol = 8.84 mg/g (creatinine 113.12 g/mol)."),
    # Liver function
    MeasurementItem(
        "ALT", "丙氨酸氨基转移酶", "Alanine aminotransferase", "liver", "U/L",
        limits=(1.0, 10000.0), plausible=(3.0, 300.0),
        other_units={"IU/L": 1.0, "µkat/L": 60.0}, loinc="1742-6", decimals=0),
    MeasurementItem(
        "AST", "天冬氨酸氨基转移酶", "Aspartate aminotransferase", "liver", "U/L",
        limits=(1.0, 10000.0), plausible=(5.0, 300.0),
        other_units={"IU/L": 1.0, "µkat/L": 60.0}, loinc="1920-8", decimals=0),
    MeasurementItem(
        "GGT", "γ-谷氨酰转移酶", "Gamma-glutamyl transferase", "liver", "U/L",
        limits=(1.0, 5000.0), plausible=(3.0, 500.0),
        other_units={"IU/L": 1.0, "µkat/L": 60.0}, loinc="2324-2", decimals=0),
    MeasurementItem(
        "ALP", "碱性磷酸酶", "Alkaline phosphatase", "liver", "U/L",
        limits=(5.0, 5000.0), plausible=(20.0, 400.0),
        other_units={"IU/L": 1.0, "µkat/L": 60.0}, loinc="6768-6", decimals=0),
    MeasurementItem(
        "TBIL", "总胆红素", "Total bilirubin", "liver", "µmol/L",
        limits=(0.5, 1000.0), plausible=(2.0, 60.0),
        other_units={"mg/dL": BILIRUBIN_MG_DL}, loinc="14631-6"),
    MeasurementItem(
        "DBIL", "直接胆红素", "Direct bilirubin", "liver", "µmol/L",
        limits=(0.0, 800.0), plausible=(0.2, 30.0),
        other_units={"mg/dL": BILIRUBIN_MG_DL}, loinc="14629-0"),
    MeasurementItem(
        "ALB", "白蛋白", "Serum albumin", "liver", "g/L",
        limits=(5.0, 80.0), plausible=(28.0, 58.0),
        other_units={"g/dL": 10.0}, loinc="1751-7"),
    MeasurementItem(
        "TP", "总蛋白", "Serum total protein", "liver", "g/L",
        limits=(20.0, 150.0), plausible=(50.0, 95.0),
        other_units={"g/dL": 10.0}, loinc="2885-2"),
    # Blood count
    MeasurementItem(
        "WBC", "白细胞计数", "White blood cell count", "blood_count", "10^9/L",
        limits=(0.1, 500.0), plausible=(2.0, 20.0),
        other_units={"10^3/µL": 1.0}, loinc="6690-2", decimals=2),
    MeasurementItem(
        "RBC", "红细胞计数", "Red blood cell count", "blood_count", "10^12/L",
        limits=(0.5, 10.0), plausible=(3.0, 7.0),
        plausible_male=(3.5, 7.0), plausible_female=(3.0, 6.0),
        other_units={"10^6/µL": 1.0}, loinc="789-8", decimals=2),
    MeasurementItem(
        "HB", "血红蛋白", "Haemoglobin", "blood_count", "g/L",
        limits=(20.0, 250.0), plausible=(70.0, 200.0),
        plausible_male=(90.0, 200.0), plausible_female=(70.0, 180.0),
        other_units={"g/dL": 10.0}, loinc="718-7", decimals=0),
    MeasurementItem(
        "HCT", "红细胞压积", "Haematocrit", "blood_count", "%",
        limits=(10.0, 75.0), plausible=(25.0, 60.0),
        plausible_male=(30.0, 60.0), plausible_female=(25.0, 55.0),
        other_units={"L/L": 100.0}, loinc="4544-3"),
    MeasurementItem(
        "PLT", "血小板计数", "Platelet count", "blood_count", "10^9/L",
        limits=(1.0, 2000.0), plausible=(50.0, 600.0),
        other_units={"10^3/µL": 1.0}, loinc="777-3", decimals=0),
    MeasurementItem(
        "NEUT", "中性粒细胞计数", "Neutrophil count", "blood_count", "10^9/L",
        limits=(0.0, 100.0), plausible=(1.0, 15.0),
        other_units={"10^3/µL": 1.0}, loinc="751-8", decimals=2),
    MeasurementItem(
        "LYMPH", "淋巴细胞计数", "Lymphocyte count", "blood_count", "10^9/L",
        limits=(0.0, 100.0), plausible=(0.5, 6.0),
        other_units={"10^3/µL": 1.0}, loinc="731-0", decimals=2),
    MeasurementItem(
        "MCV", "平均红细胞体积", "Mean corpuscular volume", "blood_count", "fL",
        limits=(40.0, 150.0), plausible=(65.0, 115.0), loinc="787-2"),
    # Electrolytes and minerals
    MeasurementItem(
        "NA", "血钠", "Serum sodium", "electrolytes", "mmol/L",
        limits=(90.0, 200.0), plausible=(125.0, 155.0),
        other_units={"mEq/L": 1.0}, loinc="2951-2"),
    MeasurementItem(
        "K", "血钾", "Serum potassium", "electrolytes", "mmol/L",
        limits=(1.0, 10.0), plausible=(2.8, 6.0),
        other_units={"mEq/L": 1.0}, loinc="2823-3", decimals=2),
    MeasurementItem(
        "CL", "血氯", "Serum chloride", "electrolytes", "mmol/L",
        limits=(60.0, 150.0), plausible=(90.0, 115.0),
        other_units={"mEq/L": 1.0}, loinc="2075-0"),
    MeasurementItem(
        "CA", "血钙", "Serum total calcium", "electrolytes", "mmol/L",
        limits=(0.5, 5.0), plausible=(1.8, 3.0),
        other_units={"mg/dL": CALCIUM_MG_DL, "mEq/L": 0.5}, loinc="2000-8", decimals=2),
    MeasurementItem(
        "MG", "血镁", "Serum magnesium", "electrolytes", "mmol/L",
        limits=(0.1, 5.0), plausible=(0.5, 1.4),
        other_units={"mg/dL": MAGNESIUM_MG_DL, "mEq/L": 0.5}, decimals=2),
    MeasurementItem(
        "PHOS", "血磷", "Serum inorganic phosphate", "electrolytes", "mmol/L",
        limits=(0.1, 6.0), plausible=(0.5, 2.0),
        other_units={"mg/dL": PHOSPHATE_MG_DL}, decimals=2),
    # Inflammation
    MeasurementItem(
        "HSCRP", "超敏C反应蛋白", "High-sensitivity C-reactive protein", "inflammation",
        "mg/L", limits=(0.0, 500.0), plausible=(0.05, 100.0),
        other_units={"mg/dL": 10.0}, loinc="30522-7", decimals=2),
    MeasurementItem(
        "ESR", "红细胞沉降率", "Erythrocyte sedimentation rate", "inflammation", "mm/h",
        limits=(0.0, 200.0), plausible=(1.0, 100.0), loinc="30341-2", decimals=0),
    # Endocrine
    MeasurementItem(
        "TSH", "促甲状腺激素", "Thyroid-stimulating hormone", "endocrine", "mIU/L",
        limits=(0.001, 500.0), plausible=(0.05, 20.0),
        other_units={"µIU/mL": 1.0}, loinc="3016-3", decimals=2),
    MeasurementItem(
        "FT4", "游离甲状腺素", "Free thyroxine", "endocrine", "pmol/L",
        limits=(1.0, 150.0), plausible=(7.0, 35.0),
        other_units={"ng/dL": 12.87}, loinc="14920-3"),
    MeasurementItem(
        "FT3", "游离三碘甲状腺原氨酸", "Free triiodothyronine", "endocrine", "pmol/L",
        limits=(0.5, 60.0), plausible=(2.0, 10.0),
        other_units={"pg/mL": 1.536}, decimals=2),
    # Lung function
    MeasurementItem(
        "FEV1", "第1秒用力呼气容积", "Forced expiratory volume in 1 second",
        "lung_function", "L", limits=(0.1, 8.0), plausible=(0.5, 5.5),
        plausible_male=(0.7, 5.5), plausible_female=(0.5, 4.2),
        other_units={"mL": 0.001}, loinc="20150-9", decimals=2),
    MeasurementItem(
        "FVC", "用力肺活量", "Forced vital capacity", "lung_function", "L",
        limits=(0.1, 10.0), plausible=(0.7, 7.0),
        plausible_male=(1.0, 7.0), plausible_female=(0.7, 5.0),
        other_units={"mL": 0.001}, loinc="19868-9", decimals=2),
    MeasurementItem(
        "FEV1_FVC", "一秒率", "FEV1/FVC ratio", "lung_function", "%",
        limits=(10.0, 100.0), plausible=(30.0, 100.0), loinc="19926-5",
        description="FEV1 divided by FVC, as a percentage (not % predicted)."),
    MeasurementItem(
        "PEF", "呼气峰流速", "Peak expiratory flow", "lung_function", "L/min",
        limits=(20.0, 1000.0), plausible=(80.0, 800.0),
        other_units={"L/s": 60.0}, decimals=0),
    # Vital signs
    MeasurementItem(
        "TEMP", "体温", "Body temperature", "vital_signs", "°C",
        limits=(25.0, 45.0), plausible=(35.0, 38.5),
        other_units={"℃": 1.0}, loinc="8310-5",
        description="Fahrenheit is not accepted (the conversion has an offset)."),
    MeasurementItem(
        "RESP_RATE", "呼吸频率", "Respiratory rate", "vital_signs", "/min",
        limits=(4.0, 80.0), plausible=(8.0, 35.0),
        other_units={"次/分": 1.0}, loinc="9279-1", decimals=0),
    MeasurementItem(
        "SPO2", "血氧饱和度", "Oxygen saturation (pulse oximetry)", "vital_signs", "%",
        limits=(50.0, 100.0), plausible=(85.0, 100.0), loinc="59408-5", decimals=0),
    # Other
    MeasurementItem(
        "VITD", "25-羟基维生素D", "25-hydroxyvitamin D", "other", "nmol/L",
        limits=(1.0, 500.0), plausible=(10.0, 200.0),
        other_units={"ng/mL": 2.496}),
    MeasurementItem(
        "FERRITIN", "血清铁蛋白", "Serum ferritin", "other", "µg/L",
        limits=(1.0, 20000.0), plausible=(5.0, 1000.0),
        plausible_male=(15.0, 1000.0), plausible_female=(5.0, 600.0),
        other_units={"ng/mL": 1.0}, loinc="2276-4", decimals=0),
    MeasurementItem(
        "HCY", "同型半胱氨酸", "Total homocysteine", "other", "µmol/L",
        limits=(1.0, 300.0), plausible=(3.0, 50.0), loinc="13965-9"),
    MeasurementItem(
        "GRIP", "握力", "Hand grip strength", "other", "kg",
        limits=(1.0, 100.0), plausible=(5.0, 70.0),
        plausible_male=(10.0, 70.0), plausible_female=(5.0, 50.0),
        description="Dominant hand, best of two trials, dynamometer."),
)
