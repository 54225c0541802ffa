"""Typical values of the catalogue items in Chinese adults aged 35-74, by sex.

Means and standard deviations are in the canonical unit of each item and are rounded
approximations of published population figures (China Kadoorie Biobank baseline,
CHARLS biomarker waves, the China Chronic Disease and Risk Factor Surveillance and the
China Health and Nutrition Survey). They drive synthetic data only: right-skewed
quantities (triglycerides, enzymes, CRP) are given as the mean and SD of the raw values,
which the generator draws log-normally with that mean and SD.
"""

from __future__ import annotations

# code -> sex -> (mean, sd), canonical unit.
TYPICAL: dict[str, dict[str, tuple[float, float]]] = {
    # Anthropometry
    "HEIGHT": {"male": (166.0, 6.5), "female": (155.0, 6.0)},
    "WEIGHT": {"male": (66.0, 11.0), "female": (58.0, 9.5)},
    "BMI": {"male": (23.8, 3.3), "female": (24.0, 3.5)},
    "WAIST": {"male": (84.0, 10.0), "female": (80.0, 10.0)},
    "HIP": {"male": (94.0, 7.0), "female": (93.0, 7.5)},
    "BODY_FAT": {"male": (23.0, 6.0), "female": (32.0, 6.0)},
    # Blood pressure
    "SBP": {"male": (132.0, 19.0), "female": (128.0, 21.0)},
    "DBP": {"male": (80.0, 11.0), "female": (77.0, 11.0)},
    "HR": {"male": (77.0, 11.0), "female": (79.0, 11.0)},
    # Glucose metabolism
    "GLU_FAST": {"male": (5.6, 1.4), "female": (5.5, 1.4)},
    "GLU_RAND": {"male": (6.0, 1.7), "female": (6.1, 1.8)},
    "GLU_2H": {"male": (7.0, 2.2), "female": (7.3, 2.3)},
    "HBA1C": {"male": (5.7, 0.9), "female": (5.8, 0.9)},
    "INSULIN_FAST": {"male": (8.0, 5.5), "female": (8.5, 5.5)},
    # Lipids
    "TC": {"male": (4.6, 0.95), "female": (4.8, 1.0)},
    "TG": {"male": (1.75, 1.3), "female": (1.55, 1.0)},
    "LDL_C": {"male": (2.75, 0.8), "female": (2.85, 0.85)},
    "HDL_C": {"male": (1.22, 0.3), "female": (1.38, 0.32)},
    "APOA1": {"male": (1.3, 0.25), "female": (1.42, 0.27)},
    "APOB": {"male": (0.9, 0.22), "female": (0.92, 0.23)},
    # Renal function
    "CREA": {"male": (80.0, 17.0), "female": (62.0, 14.0)},
    "UREA": {"male": (5.4, 1.4), "female": (5.0, 1.3)},
    "UA": {"male": (360.0, 85.0), "female": (275.0, 70.0)},
    "EGFR": {"male": (92.0, 15.0), "female": (95.0, 15.0)},
    "CYSC": {"male": (0.95, 0.2), "female": (0.85, 0.18)},
    "UACR": {"male": (14.0, 12.0), "female": (16.0, 13.0)},
    # Liver function
    "ALT": {"male": (25.0, 14.0), "female": (19.0, 11.0)},
    "AST": {"male": (25.0, 10.0), "female": (22.0, 8.0)},
    "GGT": {"male": (35.0, 25.0), "female": (21.0, 14.0)},
    "ALP": {"male": (78.0, 22.0), "female": (75.0, 23.0)},
    "TBIL": {"male": (13.5, 5.0), "female": (11.0, 4.0)},
    "DBIL": {"male": (4.2, 1.6), "female": (3.4, 1.3)},
    "ALB": {"male": (45.0, 3.0), "female": (44.5, 3.0)},
    "TP": {"male": (73.0, 4.5), "female": (73.5, 4.5)},
    # Blood count
    "WBC": {"male": (6.4, 1.7), "female": (6.0, 1.6)},
    "RBC": {"male": (4.85, 0.45), "female": (4.35, 0.38)},
    "HB": {"male": (148.0, 14.0), "female": (128.0, 13.0)},
    "HCT": {"male": (44.0, 4.0), "female": (39.0, 3.5)},
    "PLT": {"male": (215.0, 55.0), "female": (230.0, 58.0)},
    "NEUT": {"male": (3.8, 1.3), "female": (3.5, 1.2)},
    "LYMPH": {"male": (2.0, 0.6), "female": (1.9, 0.55)},
    "MCV": {"male": (91.0, 6.0), "female": (89.0, 6.5)},
    # Electrolytes and minerals
    "NA": {"male": (141.0, 2.5), "female": (141.0, 2.5)},
    "K": {"male": (4.2, 0.4), "female": (4.15, 0.4)},
    "CL": {"male": (103.0, 2.8), "female": (103.5, 2.8)},
    "CA": {"male": (2.35, 0.11), "female": (2.36, 0.11)},
    "MG": {"male": (0.9, 0.08), "female": (0.9, 0.08)},
    "PHOS": {"male": (1.1, 0.16), "female": (1.2, 0.16)},
    # Inflammation
    "HSCRP": {"male": (2.0, 3.0), "female": (1.8, 2.8)},
    "ESR": {"male": (10.0, 8.0), "female": (16.0, 11.0)},
    # Endocrine
    "TSH": {"male": (2.0, 1.2), "female": (2.4, 1.5)},
    "FT4": {"male": (16.5, 2.5), "female": (15.8, 2.4)},
    "FT3": {"male": (4.9, 0.6), "female": (4.5, 0.6)},
    # Lung function
    "FEV1": {"male": (2.75, 0.65), "female": (2.05, 0.5)},
    "FVC": {"male": (3.3, 0.75), "female": (2.45, 0.55)},
    "FEV1_FVC": {"male": (80.0, 8.0), "female": (83.0, 7.0)},
    "PEF": {"male": (420.0, 100.0), "female": (300.0, 75.0)},
    # Vital signs
    "TEMP": {"male": (36.5, 0.3), "female": (36.5, 0.3)},
    "RESP_RATE": {"male": (17.0, 2.5), "female": (17.0, 2.5)},
    "SPO2": {"male": (97.5, 1.2), "female": (97.5, 1.2)},
    # Other
    "VITD": {"male": (55.0, 18.0), "female": (45.0, 16.0)},
    "FERRITIN": {"male": (200.0, 130.0), "female": (100.0, 75.0)},
    "HCY": {"male": (15.0, 6.0), "female": (11.0, 4.0)},
    "GRIP": {"male": (35.0, 8.0), "female": (23.0, 6.0)},
}

# code -> sex -> (mean, sd) for numeric exposures, or category -> probability. Numeric
# values are drawn for everyone, so smoking and drinking amounts are population means
# (mostly zero in women) that clipping at the lower limit turns into realistic mixtures.
EXPOSURE_TYPICAL: dict[str, dict] = {
    # Smoking: CKB and CCDRFS report about half of men and 2-3% of women smoking now.
    "SMOKING_STATUS": {"male": {"never": 0.30, "former": 0.15, "current": 0.55},
                       "female": {"never": 0.965, "former": 0.01, "current": 0.025}},
    "CIG_PER_DAY": {"male": (9.0, 10.0), "female": (0.3, 1.5)},
    "PACK_YEARS": {"male": (15.0, 17.0), "female": (0.3, 2.0)},
    "SMOKING_START_AGE": {"male": (21.0, 5.0), "female": (30.0, 10.0)},
    "PASSIVE_SMOKING": {
        "male": {"never": 0.35, "lt_weekly": 0.20, "weekly": 0.15, "most_days": 0.10,
                 "daily": 0.20},
        "female": {"never": 0.30, "lt_weekly": 0.15, "weekly": 0.15, "most_days": 0.10,
                   "daily": 0.30}},
    # Alcohol: about a third of men, 2% of women drink weekly (CKB).
    "ALCOHOL_STATUS": {
        "male": {"never": 0.30, "former": 0.07, "occasional": 0.30, "weekly": 0.33},
        "female": {"never": 0.60, "former": 0.01, "occasional": 0.37, "weekly": 0.02}},
    "ALCOHOL_G_WEEK": {"male": (120.0, 200.0), "female": (3.0, 15.0)},
    "ALCOHOL_FREQ": {
        "male": {"daily": 0.18, "most_days": 0.06, "weekly": 0.09, "monthly": 0.22,
                 "never": 0.45},
        "female": {"daily": 0.01, "most_days": 0.01, "weekly": 0.01, "monthly": 0.15,
                   "never": 0.82}},
    # Physical activity
    "PA_MET": {"male": (22.0, 14.0), "female": (20.0, 12.0)},
    "SEDENTARY_H": {"male": (3.0, 1.6), "female": (2.8, 1.5)},
    # Diet (CKB food-frequency distributions, rounded)
    "VEG_FREQ": {
        "male": {"daily": 0.94, "most_days": 0.03, "weekly": 0.02, "monthly": 0.005,
                 "never": 0.005},
        "female": {"daily": 0.94, "most_days": 0.03, "weekly": 0.02, "monthly": 0.005,
                   "never": 0.005}},
    "FRUIT_FREQ": {
        "male": {"daily": 0.15, "most_days": 0.1, "weekly": 0.3, "monthly": 0.25,
                 "never": 0.2},
        "female": {"daily": 0.22, "most_days": 0.11, "weekly": 0.3, "monthly": 0.22,
                   "never": 0.15}},
    "RED_MEAT_FREQ": {
        "male": {"daily": 0.45, "most_days": 0.15, "weekly": 0.28, "monthly": 0.08,
                 "never": 0.04},
        "female": {"daily": 0.4, "most_days": 0.15, "weekly": 0.3, "monthly": 0.1,
                   "never": 0.05}},
    "PRESERVED_VEG_FREQ": {
        "male": {"daily": 0.2, "most_days": 0.1, "weekly": 0.25, "monthly": 0.2,
                 "never": 0.25},
        "female": {"daily": 0.2, "most_days": 0.1, "weekly": 0.25, "monthly": 0.2,
                   "never": 0.25}},
    "DAIRY_FREQ": {
        "male": {"daily": 0.1, "most_days": 0.04, "weekly": 0.1, "monthly": 0.1,
                 "never": 0.66},
        "female": {"daily": 0.12, "most_days": 0.04, "weekly": 0.1, "monthly": 0.1,
                   "never": 0.64}},
    "EGG_FREQ": {
        "male": {"daily": 0.25, "most_days": 0.15, "weekly": 0.4, "monthly": 0.12,
                 "never": 0.08},
        "female": {"daily": 0.25, "most_days": 0.15, "weekly": 0.4, "monthly": 0.12,
                   "never": 0.08}},
    "WHOLE_GRAIN_FREQ": {
        "male": {"daily": 0.2, "most_days": 0.1, "weekly": 0.25, "monthly": 0.2,
                 "never": 0.25},
        "female": {"daily": 0.2, "most_days": 0.1, "weekly": 0.25, "monthly": 0.2,
                   "never": 0.25}},
    "SPICY_FREQ": {
        "male": {"daily": 0.32, "most_days": 0.05, "weekly": 0.1, "monthly": 0.05,
                 "never": 0.48},
        "female": {"daily": 0.28, "most_days": 0.05, "weekly": 0.1, "monthly": 0.05,
                   "never": 0.52}},
    "TEA_FREQ": {
        "male": {"daily": 0.33, "most_days": 0.04, "weekly": 0.08, "monthly": 0.2,
                 "never": 0.35},
        "female": {"daily": 0.1, "most_days": 0.02, "weekly": 0.05, "monthly": 0.18,
                   "never": 0.65}},
    "SALT_G": {"male": (10.5, 4.0), "female": (9.5, 3.8)},
    # Sleep
    "SLEEP_H": {"male": (7.4, 1.3), "female": (7.3, 1.4)},
    "SNORING": {"male": {"never": 0.45, "sometimes": 0.30, "habitual": 0.25},
                "female": {"never": 0.65, "sometimes": 0.23, "habitual": 0.12}},
    "INSOMNIA": {"male": {"no": 0.88, "yes": 0.12}, "female": {"no": 0.82, "yes": 0.18}},
    # Socio-economic
    "OCCUPATION": {
        "male": {"agriculture": 0.40, "manufacturing": 0.15, "office": 0.07, "service": 0.08,
                 "retired": 0.18, "unemployed": 0.04, "other": 0.08},
        "female": {"agriculture": 0.40, "manufacturing": 0.10, "office": 0.04,
                   "service": 0.07, "retired": 0.17, "unemployed": 0.16, "other": 0.06}},
    "EDUCATION": {
        "male": {"none": 0.12, "primary": 0.35, "junior": 0.30, "senior": 0.16,
                 "college": 0.07},
        "female": {"none": 0.30, "primary": 0.32, "junior": 0.23, "senior": 0.11,
                   "college": 0.04}},
    "INCOME": {
        "male": {"lt_10k": 0.12, "10k_30k": 0.25, "30k_60k": 0.28, "60k_100k": 0.20,
                 "ge_100k": 0.15},
        "female": {"lt_10k": 0.14, "10k_30k": 0.27, "30k_60k": 0.27, "60k_100k": 0.18,
                   "ge_100k": 0.14}},
    "MARITAL": {"male": {"married": 0.90, "widowed": 0.05, "separated": 0.02, "never": 0.03},
                "female": {"married": 0.87, "widowed": 0.10, "separated": 0.02,
                           "never": 0.01}},
    # Household
    "COOKING_FUEL": {
        "male": {"gas": 0.50, "electricity": 0.15, "coal": 0.12, "wood": 0.18, "none": 0.05},
        "female": {"gas": 0.50, "electricity": 0.15, "coal": 0.12, "wood": 0.18, "none": 0.05}},
    "HEATING_FUEL": {
        "male": {"none": 0.40, "central": 0.15, "clean": 0.12, "coal": 0.20, "wood": 0.13},
        "female": {"none": 0.40, "central": 0.15, "clean": 0.12, "coal": 0.20, "wood": 0.13}},
    "WATER_SOURCE": {
        "male": {"tap": 0.75, "well": 0.15, "surface": 0.02, "bottled": 0.06, "other": 0.02},
        "female": {"tap": 0.75, "well": 0.15, "surface": 0.02, "bottled": 0.06, "other": 0.02}},
    # Environment
    "PM25_ANNUAL": {"male": (45.0, 18.0), "female": (45.0, 18.0)},
    "NO2_ANNUAL": {"male": (30.0, 10.0), "female": (30.0, 10.0)},
    "SHS_HOURS": {"male": (5.0, 8.0), "female": (8.0, 10.0)},
    "NDVI_500M": {"male": (0.4, 0.15), "female": (0.4, 0.15)},
    # Occupation
    "PESTICIDE": {"male": {"never": 0.70, "occasional": 0.18, "regular": 0.12},
                  "female": {"never": 0.78, "occasional": 0.14, "regular": 0.08}},
    "NIGHT_SHIFT": {"male": {"never": 0.82, "past": 0.12, "current": 0.06},
                    "female": {"never": 0.90, "past": 0.07, "current": 0.03}},
    # Psychosocial
    "STRESS": {"male": {"none": 0.55, "mild": 0.30, "moderate": 0.12, "severe": 0.03},
               "female": {"none": 0.50, "mild": 0.32, "moderate": 0.14, "severe": 0.04}},
    "PHQ9": {"male": (3.0, 3.5), "female": (3.6, 4.0)},
    "GAD7": {"male": (2.2, 3.0), "female": (2.7, 3.3)},
}
