# 自检报告：每项检查的名称、检查结果和处理办法，覆盖 CHECK_CODES
# （src/ops/selftest/model.rs）中的每个代码。报告的 JSON 保留英文原因和处理办法
# 供运维平台使用；屏幕显示这里的文字，测得的详情以小字列在下方。

selftest-detail = 详情：{ $detail }

check-card-reader = 读卡器
check-card-reader-ok = 读卡器已连接
check-card-reader-pcsc-unavailable = 读卡服务（pcscd）没有响应
    .action = 启动 pcscd（systemctl start pcscd）后再次自检
check-card-reader-pcsc-error = 读卡服务无法列出读卡器
    .action = 重启 pcscd；如再次出现，请更换读卡器
check-card-reader-no-reader = 未连接读卡器
    .action = 检查读卡器的 USB 线和电源，重新插拔
check-card-reader-not-configured = 本机设置为不使用读卡器
    .action = 连接读卡器，不带 --no-card-reader 再次自检

check-card-read = 读卡
check-card-read-ok = 已成功读卡
check-card-read-no-card = 读卡器中没有卡，未测试读卡
    .action = 插入社保卡或测试卡后再次自检
check-card-read-mute-card = 读卡器中的卡没有应答
    .action = 换一张卡试试；如所有卡都无应答，请清洁或更换读卡器
check-card-read-unknown-card = 卡有应答，但不是本机能读取的卡种
    .action = 请用社保卡或服务卡测试
check-card-read-read-failed = 读卡失败
    .action = 重新插卡；如多张卡都失败，请更换读卡器
check-card-read-not-configured = 未测试读卡
    .action = 连接读卡器并插卡后再次自检

check-scanner = 扫码器
check-scanner-ok = 扫码器已连接
check-scanner-starting = 扫码器仍在启动
    .action = 等待几秒后再次自检
check-scanner-stopped = 扫码器未在读取
    .action = 重启自助机（systemctl restart estation）
check-scanner-not-found = 在设置的位置找不到扫码器
    .action = 插上扫码器，或更正 kiosk.toml 中的 [scanner] 设置
check-scanner-permission-denied = 自助机无权打开扫码器
    .action = 按 docs/scanner.md 安装 udev 规则，使自助机能打开扫码器
check-scanner-busy = 扫码器正被其他程序占用
    .action = 关闭占用它的程序，扫码器只能由自助机独占
check-scanner-not-a-scanner = 设置为扫码器的设备不是扫码器
    .action = 检查 kiosk.toml 中的 [scanner] 设置
check-scanner-unsupported = 这种扫码器模式只在 Linux 上可用
    .action = 将扫码器切换为 USB 串口（USB-CDC）模式
check-scanner-unavailable = 无法读取扫码器
    .action = 检查扫码器连线，自助机会自动重新打开
check-scanner-internal = 扫码器检查未能运行
    .action = 再次自检；如再次出现请上报
check-scanner-not-configured = 未设置扫码器，居民只能刷卡办理
    .action = 如本机配有扫码器，请在 kiosk.toml 中设置（docs/scanner.md）

check-printer = 打印机
check-printer-ok = 打印机就绪
check-printer-paper-near-end = 纸卷即将用完
    .action = 尽快更换纸卷
check-printer-paper-end = 打印机缺纸
    .action = 装入新纸卷并合上机盖
check-printer-cover-open = 打印机机盖未合上
    .action = 合上打印机机盖
check-printer-cutter-error = 切纸刀卡纸
    .action = 清除切纸刀处的卡纸
check-printer-printer-error = 打印机报告故障
    .action = 关闭打印机电源再打开；如再次出现请更换打印机
check-printer-bad-uri = 打印机设置无效
    .action = 更正 kiosk.toml 中的打印机设置
check-printer-unreachable = 打印机没有响应
    .action = 检查打印机电源和连线（或网络）后再次自检
check-printer-print-failed = 打印失败
    .action = 再次自检；如再次出现，请上报详情
check-printer-not-configured = 未设置打印机
    .action = 在 kiosk.toml 中设置打印机（docs/deployment.md）

check-printer-test-page = 测试页
check-printer-test-page-ok = 测试页已打印
check-printer-test-page-not-ready = 打印机未就绪，未打印测试页
    .action = 先排除打印机故障
check-printer-test-page-paper-end = { check-printer-paper-end }
    .action = { check-printer-paper-end.action }
check-printer-test-page-cover-open = { check-printer-cover-open }
    .action = { check-printer-cover-open.action }
check-printer-test-page-cutter-error = { check-printer-cutter-error }
    .action = { check-printer-cutter-error.action }
check-printer-test-page-printer-error = { check-printer-printer-error }
    .action = { check-printer-printer-error.action }
check-printer-test-page-bad-uri = { check-printer-bad-uri }
    .action = { check-printer-bad-uri.action }
check-printer-test-page-unreachable = { check-printer-unreachable }
    .action = { check-printer-unreachable.action }
check-printer-test-page-print-failed = { check-printer-print-failed }
    .action = { check-printer-print-failed.action }

check-central = 中心服务
check-central-ok = 中心服务有响应，并接受本机
check-central-client-error = 自助机无法建立连接
    .action = 请向服务中心报告此故障
check-central-tls-invalid = 中心服务的证书不受信任
    .action = 检查自助机时钟和服务证书
check-central-timeout = 中心服务未及时响应
    .action = 检查网络连接
check-central-unreachable = 无法连接中心服务
    .action = 检查网线、路由器和 central_url 设置
check-central-bad-status = 中心服务返回错误
    .action = 服务在运行但出错，请告知服务中心
check-central-kiosk-unauthorized = 中心服务拒绝本机
    .action = 重新登记本机并安装新的令牌
check-central-degraded = 中心服务有响应，但带身份的请求失败
    .action = 再次自检；如再次出现请告知服务中心
check-central-not-configured = 本机尚未登记
    .action = 登记本机：estation enroll --central URL --code CODE

check-clock = 时钟
check-clock-ok = 时钟与中心服务一致
check-clock-not-checked = 未比对时钟
    .action = 先排除中心服务的问题
check-clock-no-date = 中心服务未发送时间
    .action = 请人工核对时钟
check-clock-skew = 时钟与中心服务不一致
    .action = 校准时钟并开启网络校时（NTP），签名校验依赖准确时间
check-clock-not-configured = 本机登记后才与中心服务比对时钟
    .action = 先登记本机

check-disk = 磁盘空间
check-disk-ok = 磁盘空间充足
check-disk-disk-full = 磁盘即将占满
    .action = 立即清理磁盘：旧日志、打印任务文件
check-disk-disk-low = 磁盘剩余空间不多
    .action = 尽快清理磁盘空间
check-disk-disk-error = 无法读取数据目录的剩余空间
    .action = 检查数据目录是否存在、磁盘是否已挂载
check-disk-not-configured = 未设置数据目录
    .action = 在 kiosk.toml 中设置 data_dir

check-outbox = 待发送队列
check-outbox-ok = 居民提交的内容均已送达或正在发送
check-outbox-sender-failing = 待发送队列的数据库出错，无法发送
    .action = 检查磁盘和数据目录；恢复前不会发送任何内容
check-outbox-backlog = 居民的申请正在排队等待发送
    .action = 检查网络连接，恢复后会自动发送
check-outbox-rejected = 中心服务拒收了部分申请
    .action = 请告知服务中心核查被拒收的申请
check-outbox-not-configured = 自助机运行后才会有待发送队列，目前没有待发送内容
    .action = 自助机接待居民之前无需处理

check-config = 配置
check-config-ok = 已启用签名配置
check-config-no-bundle = 未安装签名配置，正在使用内置设置
    .action = 为本机发布配置
check-config-expired = 签名配置已过期
    .action = 发布新版配置
check-config-not-configured = 本机登记后才会获取配置
    .action = 为本机发布配置

check-display = 屏幕
check-display-ok = 触摸网格和色条检测通过
check-display-not-tested = 屏幕未检测
    .action = 在维护模式中运行屏幕检测
check-display-display-fault = 屏幕检测未通过
    .action = 更换或重新校准触摸屏
check-display-not-configured = 屏幕未检测
    .action = 在维护模式中运行屏幕检测

check-voice = 语音播报
check-voice-ok = 语音播报正常，已连接扬声器
check-voice-no-engine = 未安装语音引擎，语音播报无声
    .action = 安装 espeak-ng 软件包
check-voice-no-voice = 缺少某种语言的语音
    .action = 安装 espeak-ng-data（含普通话、粤语和英语语音）
check-voice-engine-failed = 语音引擎出错
    .action = 运行 estation speak --screen attract --out voice.wav 查看原因
check-voice-no-audio-device = 语音引擎正常，但未连接扬声器
    .action = 连接扬声器后再次自检；在此之前语音播报无声

check-devices = 设备检查
check-devices-internal = 设备检查意外中止
    .action = 再次自检；如再次出现请上报
