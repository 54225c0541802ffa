"""The exposure catalogue: lifestyle, diet, sleep, social and environmental exposures.

Questions follow the baseline questionnaires of Chinese population cohorts (China
Kadoorie Biobank, CHARLS). A numeric exposure has one unit and the limits of what is
possible; a categorical one has short lower-case codes, each with a Chinese and an English
label (centres may submit the code or either label).
"""

from __future__ import annotations

from precimed.standard.catalogue import ExposureItem

# The five-level food frequency of the CKB questionnaire.
FOOD_FREQUENCY: dict[str, tuple[str, str]] = {
    "daily": ("每天", "Daily"),
    "most_days": ("每周4–6天", "4–6 days a week"),
    "weekly": ("每周1–3天", "1–3 days a week"),
    "monthly": ("每月", "Monthly"),
    "never": ("从不或很少", "Never or rarely"),
}

NO_YES: dict[str, tuple[str, str]] = {"no": ("否", "No"), "yes": ("是", "Yes")}

EXPOSURES: tuple[ExposureItem, ...] = (
    # Smoking
    ExposureItem(
        "SMOKING_STATUS", "吸烟状况", "Smoking status", "smoking", "categorical",
        description="Current: smokes now, daily or on most days. Former: stopped, not by "
                    "illness alone.",
        categories={"never": ("从不吸烟", "Never smoked"),
                    "former": ("已戒烟", "Former smoker"),
                    "current": ("目前吸烟", "Current smoker")}),
    ExposureItem(
        "CIG_PER_DAY", "每日吸烟量", "Cigarettes per day", "smoking", "numeric",
        unit="cigarettes/day", limits=(0.0, 100.0),
        description="Current smokers: cigarettes or equivalents (1 g tobacco = 1 cigarette)."),
    ExposureItem(
        "PACK_YEARS", "吸烟包年", "Pack-years of smoking", "smoking", "numeric",
        unit="pack-years", limits=(0.0, 250.0),
        description="Packs of 20 a day times years smoked."),
    ExposureItem(
        "SMOKING_START_AGE", "开始吸烟年龄", "Age started smoking", "smoking", "numeric",
        unit="years", limits=(5.0, 90.0)),
    ExposureItem(
        "PASSIVE_SMOKING", "被动吸烟频率", "Passive smoking frequency", "smoking",
        "categorical",
        categories={"never": ("从不", "Never"),
                    "lt_weekly": ("每周不到1天", "Less than weekly"),
                    "weekly": ("每周1–3天", "1–3 days a week"),
                    "most_days": ("每周4–6天", "4–6 days a week"),
                    "daily": ("每天", "Daily")},
        description="Days a week exposed to other people's tobacco smoke, at home or work, "
                    "for at least 15 minutes."),
    # Alcohol
    ExposureItem(
        "ALCOHOL_STATUS", "饮酒状况", "Alcohol drinking status", "alcohol", "categorical",
        categories={"never": ("从不饮酒", "Never drinker"),
                    "former": ("已戒酒", "Former regular drinker"),
                    "occasional": ("偶尔饮酒", "Occasional drinker"),
                    "weekly": ("每周饮酒", "Weekly drinker")}),
    ExposureItem(
        "ALCOHOL_G_WEEK", "每周酒精摄入量", "Pure alcohol per week", "alcohol", "numeric",
        unit="g/week", limits=(0.0, 5000.0),
        description="Grams of ethanol, from beverage type, volume and strength."),
    ExposureItem(
        "ALCOHOL_FREQ", "饮酒频率", "Drinking frequency", "alcohol", "categorical",
        categories=FOOD_FREQUENCY),
    # Physical activity
    ExposureItem(
        "PA_MET", "身体活动量", "Physical activity", "physical_activity", "numeric",
        unit="MET-h/day", limits=(0.0, 150.0),
        description="Occupational, commuting, household and leisure activity."),
    ExposureItem(
        "SEDENTARY_H", "静坐时间", "Sedentary leisure time", "physical_activity", "numeric",
        unit="h/day", limits=(0.0, 24.0)),
    # Diet
    ExposureItem(
        "VEG_FREQ", "新鲜蔬菜摄入频率", "Fresh vegetable intake", "diet", "categorical",
        categories=FOOD_FREQUENCY),
    ExposureItem(
        "FRUIT_FREQ", "新鲜水果摄入频率", "Fresh fruit intake", "diet", "categorical",
        categories=FOOD_FREQUENCY),
    ExposureItem(
        "RED_MEAT_FREQ", "红肉摄入频率", "Red meat intake", "diet", "categorical",
        categories=FOOD_FREQUENCY, description="Pork, beef, mutton."),
    ExposureItem(
        "PRESERVED_VEG_FREQ", "腌制蔬菜摄入频率", "Preserved vegetable intake", "diet",
        "categorical", categories=FOOD_FREQUENCY),
    ExposureItem(
        "DAIRY_FREQ", "奶制品摄入频率", "Dairy intake", "diet", "categorical",
        categories=FOOD_FREQUENCY),
    ExposureItem(
        "EGG_FREQ", "蛋类摄入频率", "Egg intake", "diet", "categorical",
        categories=FOOD_FREQUENCY),
    ExposureItem(
        "WHOLE_GRAIN_FREQ", "粗粮摄入频率", "Whole grain intake", "diet", "categorical",
        categories=FOOD_FREQUENCY, description="Millet, maize, sorghum, oats and similar."),
    ExposureItem(
        "SPICY_FREQ", "辛辣食物摄入频率", "Spicy food intake", "diet", "categorical",
        categories=FOOD_FREQUENCY),
    ExposureItem(
        "TEA_FREQ", "饮茶频率", "Tea drinking", "diet", "categorical",
        categories=FOOD_FREQUENCY),
    ExposureItem(
        "SALT_G", "食盐摄入量", "Salt intake", "diet", "numeric",
        unit="g/day", limits=(0.0, 60.0),
        description="Household salt use per person, or estimated from 24-hour urine sodium."),
    # Sleep
    ExposureItem(
        "SLEEP_H", "睡眠时长", "Sleep duration", "sleep", "numeric",
        unit="h/day", limits=(0.0, 24.0), description="Usual hours of sleep in 24 hours."),
    ExposureItem(
        "SNORING", "打鼾", "Snoring", "sleep", "categorical",
        categories={"never": ("从不", "Never"), "sometimes": ("有时", "Sometimes"),
                    "habitual": ("经常", "Habitually")}),
    ExposureItem(
        "INSOMNIA", "失眠症状", "Insomnia symptoms", "sleep", "categorical",
        categories=NO_YES,
        description="Difficulty falling or staying asleep on 3 or more days a week."),
    # Socio-economic
    ExposureItem(
        "OCCUPATION", "职业", "Occupation", "socioeconomic", "categorical",
        categories={"agriculture": ("农林牧渔", "Agriculture and related work"),
                    "manufacturing": ("工厂工人", "Factory and manufacturing work"),
                    "office": ("办公室工作", "Administrative and professional work"),
                    "service": ("服务业", "Sales and service work"),
                    "retired": ("退休", "Retired"),
                    "unemployed": ("无业或料理家务", "Unemployed or homemaker"),
                    "other": ("其他", "Other")}),
    ExposureItem(
        "EDUCATION", "文化程度", "Highest education", "socioeconomic", "categorical",
        categories={"none": ("未受正规教育", "No formal schooling"),
                    "primary": ("小学", "Primary school"),
                    "junior": ("初中", "Junior secondary school"),
                    "senior": ("高中或中专", "Senior secondary or technical school"),
                    "college": ("大专及以上", "College or university")}),
    ExposureItem(
        "INCOME", "家庭年收入", "Annual household income", "socioeconomic", "categorical",
        categories={"lt_10k": ("<1万元", "< 10 000 yuan"),
                    "10k_30k": ("1万–3万元", "10 000–29 999 yuan"),
                    "30k_60k": ("3万–6万元", "30 000–59 999 yuan"),
                    "60k_100k": ("6万–10万元", "60 000–99 999 yuan"),
                    "ge_100k": ("≥10万元", "≥ 100 000 yuan")}),
    ExposureItem(
        "MARITAL", "婚姻状况", "Marital status", "socioeconomic", "categorical",
        categories={"married": ("已婚", "Married"), "widowed": ("丧偶", "Widowed"),
                    "separated": ("离婚或分居", "Divorced or separated"),
                    "never": ("未婚", "Never married")}),
    # Household
    ExposureItem(
        "COOKING_FUEL", "做饭燃料", "Main cooking fuel", "household", "categorical",
        categories={"gas": ("燃气", "Gas (piped, LPG or biogas)"),
                    "electricity": ("电", "Electricity"),
                    "coal": ("煤", "Coal"),
                    "wood": ("柴草", "Wood or straw"),
                    "none": ("不做饭", "No regular cooking")},
        description="Gas and electricity are clean fuels; coal and wood are solid fuels."),
    ExposureItem(
        "HEATING_FUEL", "取暖燃料", "Main heating fuel", "household", "categorical",
        categories={"none": ("不取暖", "No heating"),
                    "central": ("集中供暖", "Central heating"),
                    "clean": ("燃气或电", "Gas or electricity"),
                    "coal": ("煤", "Coal"),
                    "wood": ("柴草", "Wood or straw")}),
    ExposureItem(
        "WATER_SOURCE", "饮用水来源", "Drinking water source", "household", "categorical",
        categories={"tap": ("自来水", "Tap water"), "well": ("井水", "Well water"),
                    "surface": ("河湖塘水", "River, lake or pond water"),
                    "bottled": ("桶装或瓶装水", "Bottled water"),
                    "other": ("其他", "Other")}),
    # Environment
    ExposureItem(
        "PM25_ANNUAL", "PM2.5年均浓度", "Annual mean PM2.5", "environment", "numeric",
        unit="µg/m3", limits=(0.0, 500.0),
        description="At the residential address, from a satellite-based exposure model."),
    ExposureItem(
        "NO2_ANNUAL", "NO2年均浓度", "Annual mean NO2", "environment", "numeric",
        unit="µg/m3", limits=(0.0, 300.0),
        description="At the residential address, from a land-use regression model."),
    ExposureItem(
        "SHS_HOURS", "二手烟暴露时长", "Secondhand smoke exposure", "environment", "numeric",
        unit="h/week", limits=(0.0, 168.0)),
    ExposureItem(
        "NDVI_500M", "住宅周边绿度", "Residential greenness", "environment", "numeric",
        unit="NDVI", limits=(-1.0, 1.0),
        description="Mean normalised difference vegetation index within 500 m of home."),
    # Occupation
    ExposureItem(
        "PESTICIDE", "农药暴露", "Pesticide exposure", "occupation", "categorical",
        categories={"never": ("从未接触", "Never"),
                    "occasional": ("偶尔接触", "Occasional"),
                    "regular": ("经常接触", "Regular")}),
    ExposureItem(
        "NIGHT_SHIFT", "夜班工作", "Night-shift work", "occupation", "categorical",
        categories={"never": ("从未上夜班", "Never"),
                    "past": ("过去上夜班", "In the past"),
                    "current": ("目前上夜班", "Currently")}),
    # Psychosocial
    ExposureItem(
        "STRESS", "心理压力", "Perceived psychological stress", "psychosocial",
        "categorical",
        categories={"none": ("无", "None"), "mild": ("轻度", "Mild"),
                    "moderate": ("中度", "Moderate"), "severe": ("重度", "Severe")}),
    ExposureItem(
        "PHQ9", "PHQ-9抑郁评分", "PHQ-9 depression score", "psychosocial", "numeric",
        unit="score", limits=(0.0, 27.0),
        description="Patient Health Questionnaire-9, Chinese version; 10 or more screens "
                    "positive."),
    ExposureItem(
        "GAD7", "GAD-7焦虑评分", "GAD-7 anxiety score", "psychosocial", "numeric",
        unit="score", limits=(0.0, 21.0),
        description="Generalised Anxiety Disorder-7, Chinese version."),
)
